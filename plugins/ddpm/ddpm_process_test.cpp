// SPDX-License-Identifier: Apache-2.0
// Tests of the DDPM process: schedules against numpy's values, the exact step <-> t map, the SDE.
#include "ddpm_process.h"

#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using difflab::plugins::ddpm_process;

TEST_CASE("alpha_bar of the linear and cosine schedules matches numpy's cumprod") {
    // Reference values: numpy.cumprod(1 - betas) in float64, as guided-diffusion computes it.
    const ddpm_process linear = testing::build<ddpm_process>("{schedule: linear}");
    CHECK(linear.alphas_cumprod()[0] == doctest::Approx(0.9999).epsilon(1e-12));
    CHECK(linear.alphas_cumprod()[499] == doctest::Approx(0.07858724288177824).epsilon(1e-10));
    CHECK(linear.alphas_cumprod()[999] == doctest::Approx(4.035829765375676e-05).epsilon(1e-9));
    const ddpm_process cosine = testing::build<ddpm_process>("{schedule: cosine}");
    CHECK(cosine.alphas_cumprod()[499] == doctest::Approx(0.4938435904406382).epsilon(1e-10));
    CHECK(cosine.alphas_cumprod()[999] == doctest::Approx(2.4287669070348567e-09).epsilon(1e-8));
    const ddpm_process quadratic = testing::build<ddpm_process>("{schedule: quadratic}");
    CHECK(quadratic.betas().front() == doctest::Approx(1e-4));
    CHECK(quadratic.betas()[500] == doctest::Approx(std::pow(0.01 + (std::sqrt(0.02) - 0.01) * 500 / 999, 2)));
    CHECK(quadratic.betas().back() == doctest::Approx(0.02));
    // sigmoid: beta_start + (beta_end - beta_start) * sigmoid(linspace(-6, 6, T)), as diffusers.
    const ddpm_process sigmoid = testing::build<ddpm_process>("{schedule: sigmoid}");
    const double s6 = 1 / (1 + std::exp(6.0));
    CHECK(sigmoid.betas().front() == doctest::Approx(1e-4 + 0.0199 * s6));
    CHECK(sigmoid.betas().back() == doctest::Approx(1e-4 + 0.0199 * (1 - s6)));
    for (std::size_t i = 1; i < sigmoid.betas().size(); ++i) CHECK(sigmoid.betas()[i] > sigmoid.betas()[i - 1]);
}

TEST_CASE("step i sits exactly at t = i / T, and the process is variance preserving everywhere") {
    const ddpm_process p = testing::build<ddpm_process>("{steps: 50, schedule: cosine}");
    for (std::int64_t i = 1; i <= 50; ++i) {
        const double t = static_cast<double>(i) / 50.0;
        CHECK(p.alpha(t) * p.alpha(t) ==
              doctest::Approx(p.alphas_cumprod()[static_cast<std::size_t>(i - 1)]).epsilon(1e-12));
    }
    for (double t : {0.0, 0.013, 0.25, 0.5, 0.777, 1.0})
        CHECK(p.alpha(t) * p.alpha(t) + p.sigma(t) * p.sigma(t) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(p.t_min() == doctest::Approx(0.02));
    CHECK(p.steps() == 50);
    CHECK(p.prior_std() == doctest::Approx(1.0).epsilon(1e-9));
}

TEST_CASE("log-SNR decreases and its inverse recovers t") {
    const ddpm_process p = testing::build<ddpm_process>("{schedule: linear}");
    double previous = p.log_snr(p.t_min());
    for (double t = p.t_min() + 0.01; t <= 1.0; t += 0.01) {
        const double lambda = p.log_snr(t);
        CHECK(lambda < previous);
        previous = lambda;
        CHECK(p.t_of_log_snr(lambda) == doctest::Approx(t).epsilon(1e-9));
    }
}

TEST_CASE("the SDE of a variance-preserving process has g^2 = -2 f") {
    const ddpm_process p = testing::build<ddpm_process>("{steps: 1000, schedule: linear}");
    for (double t : {0.1005, 0.5005, 0.9005}) {  // mid-step, away from the interpolation's kinks
        CHECK(p.drift(t) < 0);
        CHECK(p.diffusion(t) * p.diffusion(t) == doctest::Approx(-2.0 * p.drift(t)).epsilon(1e-4));
        // For DDPM, beta_i ~ g^2 / T: the continuous SDE of Song et al. (2021), appendix B.
        const auto i = static_cast<std::size_t>(t * 1000);
        CHECK(p.diffusion(t) * p.diffusion(t) / 1000.0 == doctest::Approx(p.betas()[i]).epsilon(0.01));
    }
}

TEST_CASE("training draws steps uniformly from 1..T") {
    const ddpm_process p = testing::build<ddpm_process>("{steps: 4}");
    CHECK(p.training_time(0.0) == doctest::Approx(0.25));
    CHECK(p.training_time(0.2499) == doctest::Approx(0.25));
    CHECK(p.training_time(0.25) == doctest::Approx(0.5));
    CHECK(p.training_time(0.999999) == doctest::Approx(1.0));
}

TEST_CASE("reverse variances: beta_tilde (fixed_small) and beta (fixed_large)") {
    const ddpm_process small = testing::build<ddpm_process>("{steps: 10}");
    CHECK(small.reverse_variance(1) == 0.0);  // the last step is deterministic
    const double expected = small.betas()[4] * (1 - small.alphas_cumprod()[3]) / (1 - small.alphas_cumprod()[4]);
    CHECK(small.reverse_variance(5) == doctest::Approx(expected));
    const ddpm_process large = testing::build<ddpm_process>("{steps: 10, variance: fixed_large}");
    CHECK(large.reverse_variance(5) == doctest::Approx(large.betas()[4]));
}
