// SPDX-License-Identifier: Apache-2.0
// Tests of the EDM sampler with the exact Gaussian denoiser.
#include "edm_sampler.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

#include "edm_process.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

double error_of(const process& p, std::int64_t steps) {
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({16, 4}, 3, random_purpose("test")) * static_cast<float>(p.prior_std());
    const tensor exact = d.x0(d.ode_solution(x_T, p.t_max(), p.t_min()), p.t_min());
    const auto got = testing::build<edm_sampler>("{steps: " + std::to_string(steps) + "}")
                         .sample(d, x_T, sampling_context{})
                         .to_vector();
    const auto want = exact.to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
    return worst;
}

}  // namespace

TEST_CASE("deterministic EDM sampling is second order and takes 2N - 1 evaluations") {
    const auto p = testing::build<edm_process>();
    const double order = std::log2(error_of(p, 21) / error_of(p, 41));
    CHECK(order == doctest::Approx(2.0).epsilon(0.15));
    const gaussian_denoiser d(p, 1.0);
    testing::build<edm_sampler>("{steps: 18}").sample(d, randn({2, 2}, 0, 1), sampling_context{});
    CHECK(d.evaluations() == 35);
}

TEST_CASE("with churn, EDM sampling still draws from the data distribution") {
    const auto p = testing::build<edm_process>();
    const double v = 0.25;
    const gaussian_denoiser d(p, v);
    sampling_context ctx;
    ctx.seed = 4;
    const std::int64_t n = 4000;
    const tensor x_T = randn({n, 1}, 9, random_purpose("prior")) * static_cast<float>(p.prior_std());
    const auto samples =
        testing::build<edm_sampler>("{steps: 40, s_churn: 40, s_min: 0.05, s_max: 50}").sample(d, x_T, ctx).to_vector();
    double mean = 0, square = 0;
    for (float s : samples) {
        mean += s / static_cast<double>(n);
        square += static_cast<double>(s) * s / static_cast<double>(n);
    }
    CHECK(std::abs(mean) < 4 * std::sqrt(v / n));
    CHECK(square - mean * mean == doctest::Approx(v).epsilon(0.08));
}
