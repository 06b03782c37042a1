// SPDX-License-Identifier: Apache-2.0
// Tests of the predictor-corrector sampler with the exact Gaussian denoiser.
#include "pc_sampler.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "sde_processes.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

constexpr double data_variance = 0.25;
// 64 samples of dimension 1024: the corrector's step size comes from per-sample norms, which
// concentrate only in many dimensions (images have thousands); in 16 dimensions their
// fluctuation alone raises the variance by 30%. 65536 values give a variance estimate with a
// relative standard deviation of sqrt(2 / 65536) = 0.55%.
constexpr std::int64_t count = 64, dimension = 1024;
const double variance_tolerance = 4 * std::sqrt(2.0 / static_cast<double>(count * dimension));  // relative

/// One PC configuration on one process.
struct pc_run {
    const process* p;
    std::string predictor;
    std::string corrector;
    std::int64_t steps;
    std::int64_t corrector_steps = 1;

    std::string yaml() const {
        return "{steps: " + std::to_string(steps) + ", predictor: " + predictor + ", corrector: " + corrector +
               ", corrector_steps: " + std::to_string(corrector_steps) + "}";
    }
};

/// Mean and variance over all values of PC samples from x_T ~ N(0, prior_std^2 I).
std::pair<double, double> moments(const pc_run& r) {
    const gaussian_denoiser d(*r.p, data_variance);
    const tensor x_T = randn({count, dimension}, 5, random_purpose("prior")) * static_cast<float>(r.p->prior_std());
    sampling_context ctx;
    ctx.seed = 8;
    const auto samples = testing::build<pc_sampler>(r.yaml()).sample(d, x_T, ctx).to_vector();
    const double n = static_cast<double>(samples.size());
    double mean = 0, square = 0;
    for (float s : samples) {
        mean += s / n;
        square += static_cast<double>(s) * s / n;
    }
    return {mean, square - mean * mean};
}

/// The variance the sampler produces in many dimensions. With the exact score -x / m
/// (m = alpha^2 v + sigma^2) every step is linear in x, so the variance s follows a recursion:
///   Langevin (per-sample norms -> s, step e = 2 a snr^2 m^2 / s):  s <- (1 - e / m)^2 s + 2 e
///     (fixed point m (1 + a snr^2): the corrector's own bias, 2.6% for snr 0.16 at a = 1)
///   reverse diffusion (b = alpha_t / alpha_s, G^2): s <- (2 - b - G^2 / m)^2 s + G^2
///   Euler-Maruyama (f, g at t, dt = t - s):        s <- (1 - (f + g^2 / m) dt)^2 s + g^2 dt
///   the final denoised estimate alpha v / m x:     s <- (alpha v / m)^2 s.
///   (with `norms: expected` the step is e = 2 a snr^2 sigma^2 instead)
double predicted_variance(const pc_run& r, double snr = 0.16, bool expected_norms = false) {
    const process& p = *r.p;
    const auto marginal = [&](double t) { return std::pow(p.alpha(t), 2) * data_variance + std::pow(p.sigma(t), 2); };
    const auto grid = time_grid(p, r.steps, "uniform");
    double s = p.prior_std() * p.prior_std();
    for (std::size_t i = 0; i < grid.size(); ++i) {
        const double t = grid[i], m = marginal(t);
        if (r.corrector == "langevin") {
            const std::size_t k = std::min(i, grid.size() - 2);  // the last point reuses the previous ratio
            const double a = std::pow(p.alpha(grid[k]) / p.alpha(grid[k + 1]), 2);
            for (std::int64_t j = 0; j < r.corrector_steps; ++j) {
                const double e =
                    expected_norms ? 2 * a * snr * snr * std::pow(p.sigma(t), 2) : 2 * a * snr * snr * m * m / s;
                s = std::pow(1 - e / m, 2) * s + 2 * e;
            }
        }
        if (i + 1 == grid.size()) break;
        const double next = grid[i + 1];
        if (r.predictor == "reverse_diffusion") {
            const double b = p.alpha(t) / p.alpha(next);
            const double g2 = std::pow(p.sigma(t), 2) - b * b * std::pow(p.sigma(next), 2);
            s = std::pow(2 - b - g2 / m, 2) * s + g2;
        } else if (r.predictor == "euler_maruyama") {
            const double dt = t - next, g2 = std::pow(p.diffusion(t), 2);
            s = std::pow(1 - (p.drift(t) + g2 / m) * dt, 2) * s + g2 * dt;
        }
    }
    const double shrink = p.alpha(grid.back()) * data_variance / marginal(grid.back());
    return shrink * shrink * s;
}

}  // namespace

TEST_CASE("PC samplers recover the data variance on the VE and VP SDEs") {
    const auto ve = testing::build<ve_sde>("{sigma_max: 10}");
    const auto vp = testing::build<vp_sde>();
    for (const pc_run& r : std::vector<pc_run>{
             {&ve, "reverse_diffusion", "langevin", 100},
             {&vp, "euler_maruyama", "langevin", 100},
             {&vp, "reverse_diffusion", "langevin", 100},
         }) {
        const double predicted = predicted_variance(r);
        const auto [mean, variance] = moments(r);
        MESSAGE((r.p == &ve ? "ve_sde " : "vp_sde ")
                << r.yaml() << ": variance " << variance << ", predicted " << predicted << ", data " << data_variance);
        CHECK(std::abs(mean) < 4 * std::sqrt(data_variance / static_cast<double>(count * dimension)));
        CHECK(std::abs(variance / predicted - 1) < variance_tolerance);
        // The corrector's fixed point m (1 + a snr^2) is 2.6% above m; the rest is the predictor's.
        CHECK(std::abs(variance / data_variance - 1) < 0.04);
    }
}

TEST_CASE("the corrector removes most of the predictor's discretization bias") {
    // Reverse diffusion alone on 100 VE steps overshoots the variance by 7%; a Langevin step at
    // each time brings it within 3% at twice the evaluations.
    const auto ve = testing::build<ve_sde>("{sigma_max: 10}");
    const pc_run predictor_only{&ve, "reverse_diffusion", "none", 100};
    const double predicted = predicted_variance(predictor_only);
    const double variance = moments(predictor_only).second;
    const double corrected = moments({&ve, "reverse_diffusion", "langevin", 100}).second;
    MESSAGE("ve_sde " << predictor_only.yaml() << ": variance " << variance << ", predicted " << predicted
                      << "; with the corrector " << corrected);
    CHECK(std::abs(variance / predicted - 1) < variance_tolerance);
    CHECK(variance / data_variance - 1 > 0.05);
    CHECK(std::abs(corrected - data_variance) < 0.5 * (variance - data_variance));
}

TEST_CASE("the Langevin corrector alone settles at its fixed point m (1 + snr^2) at one noise level") {
    // One grid time (t_max) with sigma 0.01: corrector steps from the prior (variance 1) down to
    // the fixed point m (1 + snr^2) of the step-size rule, m = v + sigma^2, then the denoised
    // estimate scales it by (v / m)^2. A wrong factor in step = 2 a (snr ||z|| / ||score||)^2
    // moves the fixed point: without the 2 it is m (1 + snr^2 / 2), 12% lower at snr 0.5.
    const auto ve = testing::build<ve_sde>("{sigma_min: 0.001, sigma_max: 0.01}");
    const double m = data_variance + 0.01 * 0.01;
    for (const std::string snr : {"0.16", "0.5"}) {
        const gaussian_denoiser d(ve, data_variance);
        const tensor x_T = randn({count, dimension}, 5, random_purpose("prior")) * static_cast<float>(ve.prior_std());
        sampling_context ctx;
        ctx.seed = 8;
        const auto samples =
            testing::build<pc_sampler>("{steps: 1, predictor: none, corrector_steps: 150, snr: " + snr + "}")
                .sample(d, x_T, ctx)
                .to_vector();
        double square = 0;
        for (float s : samples) square += static_cast<double>(s) * s / static_cast<double>(samples.size());
        const double expected = std::pow(data_variance / m, 2) * m * (1 + std::stod(snr) * std::stod(snr));
        MESSAGE("snr " << snr << ": variance " << square << ", fixed point " << expected);
        CHECK(std::abs(square / expected - 1) < variance_tolerance);
    }
}

TEST_CASE("with expected norms the corrector is stable in two dimensions") {
    // In 2-D per-sample norms make the step heavy-tailed; expected norms give every sample the
    // step 2 a (snr sigma)^2, and the variance follows the recursion exactly.
    const auto ve = testing::build<ve_sde>("{sigma_max: 10}");
    const pc_run r{&ve, "reverse_diffusion", "langevin", 100};
    const std::int64_t n = 32768;
    const gaussian_denoiser d(ve, data_variance);
    const tensor x_T = randn({n, 2}, 5, random_purpose("prior")) * static_cast<float>(ve.prior_std());
    sampling_context ctx;
    ctx.seed = 8;
    const auto samples = testing::build<pc_sampler>("{steps: 100, norms: expected}").sample(d, x_T, ctx).to_vector();
    double square = 0;
    for (float v : samples) square += static_cast<double>(v) * v / static_cast<double>(samples.size());
    const double predicted = predicted_variance(r, 0.16, true);
    MESSAGE("2-D, expected norms: variance " << square << ", predicted " << predicted);
    CHECK(std::abs(square / predicted - 1) < 4 * std::sqrt(2.0 / static_cast<double>(2 * n)));
    CHECK(std::abs(square / data_variance - 1) < 0.05);
}

TEST_CASE("PC spends the evaluations it announces for every predictor and corrector") {
    const auto vp = testing::build<vp_sde>();
    for (const std::string predictor : {"reverse_diffusion", "euler_maruyama", "none"}) {
        for (const std::string corrector : {"langevin", "none"}) {
            for (const std::int64_t corrector_steps : {1, 3}) {
                const pc_run r{&vp, predictor, corrector, 7, corrector_steps};
                const auto sampler = testing::build<pc_sampler>(r.yaml());
                const gaussian_denoiser d(vp, 1.0);
                sampler.sample(d, randn({2, 8}, 0, 1), sampling_context{});
                const std::int64_t expected =
                    (corrector == "none" ? 0 : 7 * corrector_steps) + (predictor == "none" ? 0 : 6) + 1;
                CAPTURE(r.yaml());
                CHECK(d.evaluations() == expected);
                CHECK(sampler.evaluations(vp) == expected);
            }
        }
    }
}

TEST_CASE("PC samples do not depend on the batch split") {
    const auto vp = testing::build<vp_sde>();
    const auto ve = testing::build<ve_sde>();
    for (const pc_run& r : std::vector<pc_run>{{&ve, "reverse_diffusion", "langevin", 20, 2},
                                               {&vp, "euler_maruyama", "langevin", 20, 2}}) {
        const gaussian_denoiser d(*r.p, data_variance);
        const auto sampler = testing::build<pc_sampler>(r.yaml());
        sampling_context ctx;
        ctx.seed = 11;
        const tensor x_T = randn({32, 8}, 5, random_purpose("prior")) * static_cast<float>(r.p->prior_std());
        const auto all = sampler.sample(d, x_T, ctx).to_vector();
        // Rows 10..13 drawn as their own batch (first_index 10) equal the same rows of the big batch.
        sampling_context part = ctx;
        part.first_index = 10;
        const auto some = sampler.sample(d, x_T.slice(0, 10, 14).contiguous(), part).to_vector();
        REQUIRE(some.size() == 32);
        for (std::size_t i = 0; i < some.size(); ++i) CHECK(some[i] == all[80 + i]);
    }
}
