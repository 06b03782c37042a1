// SPDX-License-Identifier: Apache-2.0
// Exact answers of the DDRM sampler: the measurement reproduced, the identity's y returned,
// batch independence, and its refusal without an observation.
#include "ddrm_sampler.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/diffusion/process.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

using namespace difflab;
using namespace difflab::plugins;
using difflab::testing::make;

namespace {

double max_abs_difference(const tensor& a, const tensor& b) {
    const auto u = a.contiguous().to_vector(), v = b.contiguous().to_vector();
    REQUIRE(u.size() == v.size());
    double worst = 0;
    for (std::size_t i = 0; i < u.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(u[i]) - v[i]));
    return worst;
}

/// Restores a batch of 3 random 1 x 8 x 8 images, measured noiselessly by `h_yaml`, with the exact
/// denoiser of N(0, I) data, and returns the largest entry of |H x_hat - y| relative to max |y|.
double measurement_residual(const std::string& h_yaml, const std::string& sampler_yaml) {
    const auto p = make<process>("{type: ddpm, schedule: linear, steps: 1000}");
    const gaussian_denoiser d(*p, 1.0);
    const auto h = make<measurement>(h_yaml);
    h->bind({1, 8, 8});
    const tensor truth = randn({3, 1, 8, 8}, 1, random_purpose("truth"));
    const observation seen{h.get(), h->apply(truth)};
    sampling_context ctx;
    ctx.seed = 5;
    ctx.observed = &seen;
    const tensor x_T = randn({3, 1, 8, 8}, 2, random_purpose("prior"));
    const tensor restored = make<sampler>(sampler_yaml)->sample(d, x_T, ctx);
    const auto y = seen.y.to_vector();
    double scale = 0;
    for (float v : y) scale = std::max(scale, std::abs(static_cast<double>(v)));
    return max_abs_difference(h->apply(restored), seen.y) / scale;
}

}  // namespace

TEST_CASE("DDRM with sigma_y = 0 and eta_b = 1 reproduces the measurement exactly, on every operator") {
    for (const std::string h : {"{type: mask, missing: center}", "{type: block_average, factor: 2}",
                                "{type: resize, factor: 2}", "{type: blur, sigma: 1.0, size: 5, cutoff: 0.03}"}) {
        CAPTURE(h);
        for (const std::string eta : {"0", "0.85", "1"}) {
            CAPTURE(eta);
            CHECK(measurement_residual(h, "{type: ddrm, steps: 10, eta: " + eta + "}") < 1e-5);
        }
        // The check can fail: with eta_b < 1 the last step keeps part of the estimate.
        CHECK(measurement_residual(h, "{type: ddrm, steps: 10, eta_b: 0.5}") > 1e-2);
    }
}

TEST_CASE("DDRM with H = I and sigma_y = 0 returns y") {
    const auto p = make<process>("{type: ddpm, schedule: linear, steps: 1000}");
    const gaussian_denoiser d(*p, 0.5);
    const auto h = make<measurement>("{type: identity}");
    h->bind({4});
    const observation seen{h.get(), randn({6, 4}, 3, random_purpose("y"))};
    sampling_context ctx;
    ctx.observed = &seen;
    const tensor restored =
        make<sampler>("{type: ddrm, steps: 7}")->sample(d, randn({6, 4}, 4, random_purpose("prior")), ctx);
    CHECK(max_abs_difference(restored, seen.y) < 1e-6);
    CHECK(d.evaluations() == 7);
}

TEST_CASE("DDRM's samples do not depend on the batch they are drawn in") {
    const auto p = make<process>("{type: ddpm, schedule: linear, steps: 1000}");
    const gaussian_denoiser d(*p, 1.0);
    const auto h = make<measurement>("{type: block_average, factor: 2, noise_std: 0.1}");
    h->bind({1, 4, 4});
    const tensor y = randn({5, 1, 2, 2}, 6, random_purpose("y"));
    const tensor x_T = randn({5, 1, 4, 4}, 7, random_purpose("prior"));
    const auto ddrm = make<sampler>("{type: ddrm, steps: 12, eta: 0.85}");
    const observation whole{h.get(), y};
    sampling_context ctx;
    ctx.seed = 9;
    ctx.observed = &whole;
    const tensor all = ddrm->sample(d, x_T, ctx);
    const observation part{h.get(), y.slice(0, 2, 4).contiguous()};
    sampling_context part_ctx = ctx;
    part_ctx.first_index = 2;
    part_ctx.observed = &part;
    const tensor rows = ddrm->sample(d, x_T.slice(0, 2, 4).contiguous(), part_ctx);
    CHECK(max_abs_difference(rows, all.slice(0, 2, 4).contiguous()) == 0);
}

TEST_CASE("DDRM refuses to sample without an observation, and a batch the observation does not fit") {
    const auto p = make<process>("{type: ddpm, schedule: linear, steps: 1000}");
    const gaussian_denoiser d(*p, 1.0);
    const auto ddrm = make<sampler>("{type: ddrm}");
    CHECK(ddrm->inverts_observation());
    CHECK_THROWS_WITH_AS(ddrm->sample(d, randn({2, 4}, 0, 1), sampling_context{}),
                         doctest::Contains("restores from a measurement"), config_error);
    const auto h = make<measurement>("{type: identity}");
    h->bind({4});
    const observation seen{h.get(), randn({3, 4}, 1, 1)};
    sampling_context ctx;
    ctx.observed = &seen;
    CHECK_THROWS_WITH(ddrm->sample(d, randn({2, 4}, 0, 1), ctx), doctest::Contains("3 rows but the batch has 2"));
    CHECK_FALSE(make<sampler>("{type: ddim}")->inverts_observation());
}
