// SPDX-License-Identifier: Apache-2.0
// Conditioning on a measurement through the real operators: replacement at the state's own
// level, with fresh or fixed noise, and the x0-estimate projection.
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/mask_replacement.h>
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

TEST_CASE("replacement with a mask per sample: the mask measurement's edit on a shared mask, each sample its own") {
    const auto mask = testing::make<measurement>("{type: mask, missing: left_half}");
    mask->bind({2, 4, 4});
    const auto p = testing::make<process>("{type: ddpm, steps: 100}");
    const tensor x = randn({3, 2, 4, 4}, 1, random_purpose("test/x"));
    const tensor truth = randn({3, 2, 4, 4}, 2, random_purpose("test/truth"));
    sampling_context ctx;
    ctx.seed = 7;
    ctx.first_index = 10;
    // The mask measurement's one mask, given per sample as [N, 1, H, W]: the same edit.
    const tensor shared = mask->apply(tensor::ones({1, 2, 4, 4})).slice(1, 0, 1).contiguous();
    const tensor per_sample = concat({shared, shared, shared}, 0);
    const mask_replacement by_mask(*p, per_sample, truth);
    const measurement_replacement by_measurement(*p, *mask, mask->apply(truth));
    CHECK(testing::relative_error(by_mask.apply(x, 0.4, 3, ctx), by_measurement.apply(x, 0.4, 3, ctx)) < 1e-6);
    const mask_replacement fixed(*p, per_sample, truth, true);
    const measurement_replacement fixed_measurement(*p, *mask, mask->apply(truth), true);
    CHECK(testing::relative_error(fixed.apply(x, 0.4, 3, ctx), fixed_measurement.apply(x, 0.4, 0, ctx)) < 1e-6);

    // Its own mask for each sample: sample 1 keeps everything, sample 2 nothing.
    const tensor masks = concat({shared, tensor::ones({1, 1, 4, 4}), tensor::zeros({1, 1, 4, 4})}, 0);
    const tensor edited = mask_replacement(*p, masks, truth).apply(x, 0.4, 3, ctx);
    const tensor z = ctx.draw(x, "constraint/noise", 3);
    const tensor marginal = truth * static_cast<float>(p->alpha(0.4)) + z * static_cast<float>(p->sigma(0.4));
    CHECK(testing::relative_error(edited.slice(0, 1, 2), marginal.slice(0, 1, 2)) < 1e-6);
    CHECK(testing::relative_error(edited.slice(0, 2, 3), x.slice(0, 2, 3)) == 0.0);
    CHECK_THROWS_AS(mask_replacement(*p, tensor::ones({2, 1, 4, 4}), truth), difflab::error);
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
