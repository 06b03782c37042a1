// SPDX-License-Identifier: Apache-2.0
// Tests of the DDIM sampler with the exact Gaussian denoiser.
#include "ddim_sampler.h"

#include <difflab/gaussian_denoiser.h>
#include <difflab/random.h>
#include <difflab/testing.h>
#include <doctest/doctest.h>

#include <cmath>

#include "ddpm_process.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

build_context& context = testing::test_context();

double max_abs_error(const tensor& a, const tensor& b) {
    const auto x = a.to_vector(), y = b.to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(x[i]) - y[i]));
    return worst;
}

}  // namespace

TEST_CASE("DDIM with eta 0 converges to the exact ODE solution at first order") {
    const ddpm_process p({1000, "cosine", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 0.25);  // data N(0, 0.25 I)
    const tensor x_T = randn({16, 4}, 3, random_purpose("test"));
    // Exact: follow the ODE from t_max to t_min, then denoise there (DDIM's last step).
    const tensor exact = d.x0(d.ode_solution(x_T, p.t_max(), p.t_min()), p.t_min());
    sampling_context ctx;
    const double e_50 = max_abs_error(testing::build<ddim_sampler>("{steps: 50}").sample(d, x_T, ctx), exact);
    const double e_100 = max_abs_error(testing::build<ddim_sampler>("{steps: 100}").sample(d, x_T, ctx), exact);
    CHECK(e_100 < e_50);
    CHECK(std::log2(e_50 / e_100) == doctest::Approx(1.0).epsilon(0.15));
}

TEST_CASE("DDIM evaluates the denoiser once per step") {
    const ddpm_process p({100, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 1.0);
    testing::build<ddim_sampler>("{steps: 7}").sample(d, randn({2, 3}, 0, 1), sampling_context{});
    CHECK(d.evaluations() == 7);
}

TEST_CASE("ancestral DDIM (eta 1) samples the data distribution, whatever the batch split") {
    const ddpm_process p({1000, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const double v = 0.25;
    const gaussian_denoiser d(p, v);
    const ddim_sampler sampler = testing::build<ddim_sampler>("{steps: 100, eta: 1.0}");
    sampling_context ctx;
    ctx.seed = 11;
    const std::int64_t n = 4000;
    const tensor x_T = randn({n, 1}, 5, random_purpose("prior"));
    const auto samples = sampler.sample(d, x_T, ctx).to_vector();
    double mean = 0, square = 0;
    for (float s : samples) {
        mean += s / static_cast<double>(n);
        square += static_cast<double>(s) * s / static_cast<double>(n);
    }
    CHECK(std::abs(mean) < 4 * std::sqrt(v / n));
    CHECK(square - mean * mean == doctest::Approx(v).epsilon(0.08));

    // Rows 10..13 drawn as their own batch (first_index 10) equal the same rows of the big batch.
    sampling_context part = ctx;
    part.first_index = 10;
    const auto small = sampler.sample(d, x_T.slice(0, 10, 14).contiguous(), part).to_vector();
    for (int i = 0; i < 4; ++i) CHECK(small[static_cast<std::size_t>(i)] == samples[static_cast<std::size_t>(10 + i)]);
}
