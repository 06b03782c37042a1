// SPDX-License-Identifier: Apache-2.0
// Tests of annealed Langevin dynamics with the exact Gaussian denoiser.
#include "annealed_langevin_sampler.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <utility>

#include "ncsn_process.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

constexpr std::int64_t count = 4000;
constexpr double data_variance = 0.25;

/// Mean and variance of annealed Langevin samples from x_T ~ N(0, prior_std^2).
std::pair<double, double> moments(const process& p, const annealed_langevin_sampler& sampler) {
    const gaussian_denoiser d(p, data_variance);
    const tensor x_T = randn({count, 1}, 5, random_purpose("prior")) * static_cast<float>(p.prior_std());
    sampling_context ctx;
    ctx.seed = 8;
    const auto samples = sampler.sample(d, x_T, ctx).to_vector();
    double mean = 0, square = 0;
    for (float s : samples) {
        mean += s / static_cast<double>(count);
        square += static_cast<double>(s) * s / static_cast<double>(count);
    }
    return {mean, square - mean * mean};
}

/// The variance the chain must reach: with the exact score -x / m_i (m_i = v + sigma_i^2) a
/// Langevin step is linear, x <- (1 - alpha_i / (2 m_i)) x + sqrt(alpha_i) z, so the variance
/// follows s <- (1 - alpha_i / (2 m_i))^2 s + alpha_i exactly; the denoiser then scales x by
/// v / m_L.
double predicted_variance(const ncsn_process& p, std::int64_t steps_each, double epsilon) {
    const auto sigmas = p.sigmas();
    double s = p.prior_std() * p.prior_std();
    for (double sigma : sigmas) {
        const double alpha = epsilon * sigma * sigma / (sigmas.back() * sigmas.back());
        const double m = data_variance + sigma * sigma;
        for (std::int64_t j = 0; j < steps_each; ++j) s = std::pow(1 - alpha / (2 * m), 2) * s + alpha;
    }
    const double shrink = data_variance / (data_variance + sigmas.back() * sigmas.back());
    return s * shrink * shrink;
}

/// 4 standard deviations of a variance estimated from `count` normal samples: sqrt(2 / n) v.
const double variance_tolerance = 4 * data_variance * std::sqrt(2.0 / count);

/// alpha = exp(-t): a variance-preserving process, where annealed Langevin is not defined.
class shrinking_process final : public process {
public:
    double alpha(double t) const override { return std::exp(-t); }
    double sigma(double t) const override { return std::sqrt(1 - std::exp(-2 * t)); }
    double t_min() const override { return 1e-3; }
};

}  // namespace

TEST_CASE("annealed Langevin samples the data distribution on the NCSN levels") {
    // 20 levels from 3 to 0.01; 200 steps per level with epsilon 2e-4 mix at every level down
    // to where sigma^2 << v (the recursion predicts 0.2507 for v = 0.25).
    const ncsn_process p = testing::build<ncsn_process>("{sigma_min: 0.01, sigma_max: 3, levels: 20}");
    const auto sampler = testing::build<annealed_langevin_sampler>("{steps: 20, steps_each: 200, step_size: 2.0e-4}");
    // steps = levels with uniform spacing visits exactly the process's levels.
    const auto grid = time_grid(p, 20, "uniform");
    for (std::size_t i = 0; i < grid.size(); ++i)
        CHECK(p.sigma(grid[i]) == doctest::Approx(p.sigmas()[i]).epsilon(1e-12));
    const double predicted = predicted_variance(p, 200, 2e-4);
    CHECK(predicted == doctest::Approx(data_variance).epsilon(0.005));
    const auto [mean, variance] = moments(p, sampler);
    MESSAGE("annealed Langevin (20 levels x 200 steps): variance " << variance << ", predicted " << predicted
                                                                   << ", data " << data_variance);
    CHECK(std::abs(mean) < 4 * std::sqrt(data_variance / count));
    CHECK(std::abs(variance - data_variance) < variance_tolerance);
}

TEST_CASE("with too few Langevin steps the variance stays high, exactly as the step recursion predicts") {
    // 10 steps per level with the paper's epsilon 2e-5 do not mix at the small levels: the chain
    // keeps a variance of about 0.36 instead of 0.25. Matching the recursion checks
    // alpha_i = epsilon sigma_i^2 / sigma_L^2 and the update itself.
    const ncsn_process p = testing::build<ncsn_process>("{sigma_min: 0.01, sigma_max: 3, levels: 20}");
    const auto sampler = testing::build<annealed_langevin_sampler>("{steps: 20, steps_each: 10, step_size: 2.0e-5}");
    const double predicted = predicted_variance(p, 10, 2e-5);
    CHECK(predicted > data_variance + 2 * variance_tolerance);
    const double variance = moments(p, sampler).second;
    MESSAGE("annealed Langevin (20 levels x 10 steps, epsilon 2e-5): variance " << variance << ", predicted "
                                                                                << predicted);
    CHECK(std::abs(variance - predicted) < 4 * predicted * std::sqrt(2.0 / count));
}

TEST_CASE("annealed Langevin refuses processes that are not variance exploding") {
    const shrinking_process p;
    const auto sampler = testing::build<annealed_langevin_sampler>("{steps: 3, steps_each: 2}");
    const std::string expected =
        "error: sampler 'annealed_langevin' is defined for variance-exploding processes (alpha = 1: ncsn, ve_sde, "
        "edm), not for a process with alpha(t_max) = 0.367879; use sampler 'pc' with predictor 'none' and corrector "
        "'langevin' instead";
    CHECK_THROWS_WITH_AS(sampler.check(p), expected.c_str(), config_error);
    const gaussian_denoiser d(p, data_variance);
    CHECK_THROWS_WITH_AS(sampler.sample(d, randn({2, 3}, 0, 1), sampling_context{}), expected.c_str(), config_error);
    CHECK(d.evaluations() == 0);  // refused before any work
    CHECK_NOTHROW(sampler.check(testing::build<ncsn_process>()));
}

TEST_CASE("annealed Langevin refuses a step size that cannot converge at the smallest level") {
    // EDM's sigma_min = 0.002 with Song & Ermon's epsilon 2e-5 (tuned for sigma_min = 0.01).
    const ncsn_process p = testing::build<ncsn_process>("{sigma_min: 0.002, sigma_max: 80, levels: 10}");
    CHECK_THROWS_WITH_AS(testing::build<annealed_langevin_sampler>("{steps: 10}").check(p),
                         "error: sampler 'annealed_langevin': step_size 2e-05 is unstable at the smallest noise level "
                         "sigma = 0.002 (step_size / sigma^2 = 5 must be below 4); set step_size below 1.6e-05 (Song & "
                         "Ermon's ratio 0.2 gives 8e-07)",
                         config_error);
    CHECK_NOTHROW(testing::build<annealed_langevin_sampler>("{steps: 10, step_size: 8.0e-7}").check(p));
}

TEST_CASE("annealed Langevin spends steps * steps_each evaluations, plus one to denoise") {
    const ncsn_process p = testing::build<ncsn_process>();
    for (const std::string denoise : {"true", "false"}) {
        const auto sampler =
            testing::build<annealed_langevin_sampler>("{steps: 4, steps_each: 3, denoise: " + denoise + "}");
        const gaussian_denoiser d(p, 1.0);
        sampler.sample(d, randn({2, 3}, 0, 1), sampling_context{});
        CHECK(d.evaluations() == sampler.evaluations(p));
        CHECK(d.evaluations() == 4 * 3 + (denoise == "true" ? 1 : 0));
    }
}

TEST_CASE("annealed Langevin samples do not depend on the batch split") {
    const ncsn_process p = testing::build<ncsn_process>();
    const gaussian_denoiser d(p, data_variance);
    const auto sampler = testing::build<annealed_langevin_sampler>("{steps: 10, steps_each: 5}");
    sampling_context ctx;
    ctx.seed = 11;
    const tensor x_T = randn({32, 3}, 5, random_purpose("prior"));
    const auto all = sampler.sample(d, x_T, ctx).to_vector();
    // Rows 10..13 drawn as their own batch (first_index 10) equal the same rows of the big batch.
    sampling_context part = ctx;
    part.first_index = 10;
    const auto some = sampler.sample(d, x_T.slice(0, 10, 14).contiguous(), part).to_vector();
    REQUIRE(some.size() == 12);
    for (std::size_t i = 0; i < some.size(); ++i) CHECK(some[i] == all[30 + i]);
}
