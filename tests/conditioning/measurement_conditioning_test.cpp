// SPDX-License-Identifier: Apache-2.0
// Conditioning on a measurement through the real operators: replacement at the state's own
// level, with fresh or fixed noise, and the x0-estimate projection.
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/measurement_conditioning.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace difflab;

TEST_CASE("replacement with a mask: the observed pixels become alpha y + sigma z, the others stay") {
    const auto mask = testing::make<measurement>("{type: mask, missing: left_half}");
    mask->bind({1, 2, 2});
    const auto p = testing::make<process>("{type: vp_sde}");
    const tensor x = randn({3, 1, 2, 2}, 1, random_purpose("test/x"));
    const tensor y = mask->apply(randn({3, 1, 2, 2}, 2, random_purpose("test/y")));
    const measurement_replacement replace(*p, *mask, y);
    sampling_context ctx;
    ctx.seed = 4;
    const double t = 0.3;
    const std::vector<float> edited = replace.apply(x, t, 5, ctx).to_vector();
    const std::vector<float> before = x.to_vector(), observed = y.to_vector(),
                             z = ctx.draw(x, "constraint/noise", 5).to_vector();
    for (std::size_t i = 0; i < edited.size(); ++i) {
        const bool missing = i % 2 == 0;  // the left column of each 2 x 2 image
        const double expected = missing ? before[i] : p->alpha(t) * observed[i] + p->sigma(t) * z[i];
        CHECK(edited[i] == doctest::Approx(expected).epsilon(1e-5));
    }
    // Fresh noise differs between states; fixed noise is one draw for the whole path.
    CHECK(testing::relative_error(replace.apply(x, t, 6, ctx), replace.apply(x, t, 5, ctx)) > 1e-3);
    const measurement_replacement fixed(*p, *mask, y, true);
    CHECK(testing::relative_error(fixed.apply(x, t, 6, ctx), fixed.apply(x, t, 5, ctx)) == 0.0);
}

TEST_CASE("the x0-estimate projection makes the estimate agree with the measurement exactly where H sees") {
    const auto blur = testing::make<measurement>("{type: block_average, factor: 2}");
    blur->bind({1, 4, 4});
    const auto p = testing::make<process>("{type: vp_sde}");
    const gaussian_denoiser d(*p, 0.25);
    const tensor y = blur->apply(randn({2, 1, 4, 4}, 3, random_purpose("test/y")));
    const measurement_projection projected(d, *blur, y);
    const tensor x = randn({2, 1, 4, 4}, 4, random_purpose("test/x"));
    CHECK(testing::relative_error(blur->apply(projected.x0(x, 0.5)), y) < 1e-5);
    // The null space of H (within-block detail) is the inner denoiser's.
    const tensor inner = d.x0(x, 0.5), outer = projected.x0(x, 0.5);
    const tensor detail_inner = inner - blur->pseudo_inverse(blur->apply(inner));
    const tensor detail_outer = outer - blur->pseudo_inverse(blur->apply(outer));
    CHECK(testing::relative_error(detail_outer, detail_inner) < 1e-5);
}
