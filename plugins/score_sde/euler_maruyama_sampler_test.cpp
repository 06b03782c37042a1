// SPDX-License-Identifier: Apache-2.0
// Tests of Euler-Maruyama on the reverse SDE with the exact Gaussian denoiser.
#include "euler_maruyama_sampler.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

#include "sde_processes.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// Mean and variance of the samples drawn from x_T ~ N(0, prior_std^2).
std::pair<double, double> moments(const process& p, double v, std::int64_t steps) {
    const gaussian_denoiser d(p, v);
    const tensor x_T = randn({4000, 1}, 5, random_purpose("prior")) * static_cast<float>(p.prior_std());
    sampling_context ctx;
    ctx.seed = 8;
    const auto samples = testing::build<euler_maruyama_sampler>("{steps: " + std::to_string(steps) + "}")
                             .sample(d, x_T, ctx)
                             .to_vector();
    double mean = 0, square = 0;
    for (float s : samples) {
        mean += s / 4000.0;
        square += static_cast<double>(s) * s / 4000.0;
    }
    return {mean, square - mean * mean};
}

}  // namespace

TEST_CASE("the reverse VP and VE SDEs sample the data distribution") {
    const double v = 0.25;
    const auto vp = testing::build<vp_sde>();
    const auto ve = testing::build<ve_sde>("{sigma_max: 10}");
    for (const process* p : std::vector<const process*>{&vp, &ve}) {
        const auto [mean, variance] = moments(*p, v, 500);
        CHECK(std::abs(mean) < 4 * std::sqrt(v / 4000.0));
        CHECK(variance == doctest::Approx(v).epsilon(0.08));
    }
}

TEST_CASE("too few steps are visibly biased, and the bias shrinks with more") {
    const auto vp = testing::build<vp_sde>();
    const double v = 0.25;
    const double coarse = std::abs(moments(vp, v, 10).second - v);
    const double fine = std::abs(moments(vp, v, 500).second - v);
    CHECK(fine < coarse);
}
