// SPDX-License-Identifier: Apache-2.0
// Tests of the DDIM sampler with the exact Gaussian denoiser.
#include "ddim_sampler.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <string>

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
    CHECK(testing::build<ddim_sampler>("{steps: 7}").evaluations(p) == 7);
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

TEST_CASE("DDIM inversion followed by DDIM sampling gives back the data, better with more steps") {
    const ddpm_process p({1000, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 0.25);
    const tensor x0 = randn({16, 4}, 7, random_purpose("data")) * 0.5f;  // a draw of the data N(0, 0.25 I)
    double error[2] = {0, 0};
    int k = 0;
    for (const char* steps : {"{steps: 50}", "{steps: 200}"}) {
        const ddim_sampler sampler = testing::build<ddim_sampler>(steps);
        const tensor x_T = sampler.invert(d, x0);
        error[k++] = max_abs_error(sampler.sample(d, x_T, sampling_context{}), x0);
    }
    INFO("round trip max error: 50 steps ", error[0], ", 200 steps ", error[1]);
    // Measured 0.151 and 0.039 (|x0| up to 1.39 here: about 11% and 2.8% of the largest entry).
    CHECK(error[0] < 0.17);
    CHECK(error[1] < 0.045);
    // Both directions are first order: four times the steps, a quarter of the error.
    CHECK(std::log2(error[0] / error[1]) == doctest::Approx(2.0).epsilon(0.1));
}

TEST_CASE("DDIM inversion follows the exact ODE solution from the data at t_min") {
    const ddpm_process p({1000, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 0.25);
    const tensor x0 = randn({16, 4}, 7, random_purpose("data")) * 0.5f;
    const tensor exact = d.ode_solution(x0, p.t_min(), p.t_max());
    double error[2] = {0, 0};
    int k = 0;
    for (std::int64_t steps : {50, 200}) {
        const ddim_sampler sampler = testing::build<ddim_sampler>("{steps: " + std::to_string(steps) + "}");
        d.reset_evaluations();
        error[k++] = max_abs_error(sampler.invert(d, x0), exact);
        CHECK(d.evaluations() == steps);
    }
    INFO("inversion vs exact ODE max error: 50 steps ", error[0], ", 200 steps ", error[1]);
    // Measured 0.155 and 0.038 (|x_T| up to 2.8: 5.6% and 1.4%); the first step's reading of x0 as
    // x at t_min shifts x_T by only about 4e-4 of itself, far below these.
    CHECK(error[0] < 0.17);
    CHECK(error[1] < 0.045);
    CHECK(std::log2(error[0] / error[1]) == doctest::Approx(2.0).epsilon(0.1));
}
