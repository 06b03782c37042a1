// SPDX-License-Identifier: Apache-2.0
// Tests of the PLMS / PNDM sampler with the exact Gaussian denoiser.
#include "plms_sampler.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "ddim_sampler.h"
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

/// Max error of `sampler` against the exact probability-flow ODE solution from x_T, denoised at
/// t_min (what every sampler returns after its last grid time).
template <class S>
double ode_error(const S& sampler, const gaussian_denoiser& d, const tensor& x_T) {
    const process& p = d.diffusion_process();
    const tensor exact = d.x0(d.ode_solution(x_T, p.t_max(), p.t_min()), p.t_min());
    return max_abs_error(sampler.sample(d, x_T, sampling_context{}), exact);
}

plms_sampler plms(std::int64_t steps, const std::string& warmup, const std::string& spacing = "uniform") {
    return testing::build<plms_sampler>("{steps: " + std::to_string(steps) + ", warmup: " + warmup +
                                        ", spacing: " + spacing + "}");
}

}  // namespace

TEST_CASE("PLMS at 20 steps is far closer to the exact ODE solution than DDIM at 20 steps") {
    const ddpm_process p({1000, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 0.25);  // data N(0, 0.25 I)
    const tensor x_T = randn({16, 4}, 3, random_purpose("test"));
    for (const std::string spacing : {"uniform", "quadratic"}) {
        CAPTURE(spacing);
        const double ddim = ode_error(testing::build<ddim_sampler>("{steps: 20, spacing: " + spacing + "}"), d, x_T);
        const double prk = ode_error(plms(20, "prk", spacing), d, x_T);
        const double multistep = ode_error(plms(20, "multistep", spacing), d, x_T);
        INFO(spacing, ": max error at 20 steps: ddim ", ddim, ", plms prk ", prk, ", plms multistep ", multistep);
        // Measured: uniform 0.151 against 1.10e-3 (prk) and 1.09e-3 (multistep), about 140 times
        // smaller; quadratic 0.090 against 5.1e-3 and 5.0e-3, about 18 times.
        CHECK(prk * 10 < ddim);
        CHECK(multistep * 10 < ddim);
    }
}

TEST_CASE("PLMS with the multistep warm-up is stable and accurate where alpha(t_max) is almost 0") {
    // The cosine schedule's last beta is clipped at 0.999, so alpha(1) ~ 5e-5: the multistep
    // warm-up starts with a DDIM step, which is exact in the noise estimate at t_max.
    const ddpm_process p({1000, "cosine", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({16, 4}, 3, random_purpose("test"));
    const double ddim = ode_error(testing::build<ddim_sampler>("{steps: 20}"), d, x_T);
    const double multistep = ode_error(plms(20, "multistep"), d, x_T);
    INFO("cosine schedule, max error at 20 steps: ddim ", ddim, ", plms multistep ", multistep);
    // Measured 0.085 against 5.5e-4. The prk warm-up diverges here (1.7e5 at 20 steps, 1.4e3 at
    // 50): its stages average noise estimates over a first step where sigma / alpha falls from
    // 2e4 to about 12, and the transfer multiplies their spread by about alpha_s / alpha_t.
    CHECK(multistep * 10 < ddim);
}

TEST_CASE("PLMS converges at second order, one order above DDIM") {
    // The Adams-Bashforth weights average the noise estimate uniformly over a step in t, while
    // the transfer part needs its average weighted by d(sigma / alpha): the two differ by
    // O(h^2), so the method is second order, whatever the warm-up (a smooth VP schedule shows
    // the same in a float64 model). The grid is uniform in sqrt(t - t_min) here because the
    // linear schedule has sigma ~ sqrt(0.1 t) near t = 0: on the uniform grid the last steps see
    // that square root, and the error, which changes sign between 10 and 20 steps and again near
    // 40, falls at an order between 1 and 1.5 from 80 steps on.
    const ddpm_process p({1000, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({16, 4}, 3, random_purpose("test"));
    for (const std::string warmup : {"multistep", "prk"}) {
        CAPTURE(warmup);
        const double e_20 = ode_error(plms(20, warmup, "quadratic"), d, x_T);
        const double e_40 = ode_error(plms(40, warmup, "quadratic"), d, x_T);
        const double e_80 = ode_error(plms(80, warmup, "quadratic"), d, x_T);
        const double e_160 = ode_error(plms(160, warmup, "quadratic"), d, x_T);
        INFO(warmup, ": errors at 20, 40, 80, 160 steps ", e_20, " ", e_40, " ", e_80, " ", e_160);
        // Measured log2 ratios 2.15, 2.05, 2.04 (multistep) and 2.18, 2.06, 2.05 (prk).
        CHECK(std::log2(e_20 / e_40) == doctest::Approx(2.0).epsilon(0.15));
        CHECK(std::log2(e_40 / e_80) == doctest::Approx(2.0).epsilon(0.1));
        CHECK(std::log2(e_80 / e_160) == doctest::Approx(2.0).epsilon(0.1));
    }
    const double ddim_40 = ode_error(testing::build<ddim_sampler>("{steps: 40, spacing: quadratic}"), d, x_T);
    const double ddim_80 = ode_error(testing::build<ddim_sampler>("{steps: 80, spacing: quadratic}"), d, x_T);
    CHECK(std::log2(ddim_40 / ddim_80) == doctest::Approx(1.0).epsilon(0.1));
}

TEST_CASE("PLMS spends exactly evaluations(p) denoiser evaluations") {
    const ddpm_process p({100, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    for (const std::string warmup : {"prk", "multistep"}) {
        for (std::int64_t steps : {1, 2, 3, 4, 5, 6, 20}) {
            CAPTURE(warmup);
            CAPTURE(steps);
            const gaussian_denoiser d(p, 1.0);
            const plms_sampler sampler = plms(steps, warmup);
            sampler.sample(d, randn({2, 3}, 0, 1), sampling_context{});
            CHECK(d.evaluations() == sampler.evaluations(p));
        }
    }
    CHECK(plms(1, "prk").evaluations(p) == 1);
    CHECK(plms(3, "prk").evaluations(p) == 3 + 3 * 2);
    CHECK(plms(20, "prk").evaluations(p) == 20 + 3 * 3);
    CHECK(plms(20, "multistep").evaluations(p) == 20);
}

TEST_CASE("PLMS gives the same samples whatever the batch split") {
    const ddpm_process p({1000, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, context);
    const gaussian_denoiser d(p, 0.25);
    const plms_sampler sampler = plms(20, "prk");
    sampling_context ctx;
    ctx.seed = 11;
    const tensor x_T = randn({64, 3}, 5, random_purpose("prior"));
    const auto samples = sampler.sample(d, x_T, ctx).to_vector();
    sampling_context part = ctx;
    part.first_index = 10;
    const auto small = sampler.sample(d, x_T.slice(0, 10, 14).contiguous(), part).to_vector();
    for (std::size_t i = 0; i < small.size(); ++i) CHECK(small[i] == samples[30 + i]);
}
