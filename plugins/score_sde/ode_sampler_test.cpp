// SPDX-License-Identifier: Apache-2.0
// Tests of the probability-flow ODE solvers: convergence orders and adaptive RK45 against the exact solution.
#include "ode_sampler.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "sde_processes.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

build_context& context = testing::test_context();

ode_sampler make(const std::string& method, std::int64_t steps) {
    return testing::build<ode_sampler>("{method: " + method + ", steps: " + std::to_string(steps) + "}");
}

ode_sampler make_rk45(double tol, std::int64_t steps = 50) {
    const std::string t = fmt::format("{}", tol);
    return testing::build<ode_sampler>("{method: rk45, rtol: " + t + ", atol: " + t +
                                       ", steps: " + std::to_string(steps) + "}");
}

double max_abs_difference(const tensor& a, const tensor& b) {
    const auto x = a.to_vector(), y = b.to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(static_cast<double>(x[i]) - y[i]));
    return worst;
}

/// Error of adaptive RK45 at tolerance `tol` against the exact solution, and its evaluations.
std::pair<double, std::int64_t> rk45_error(const process& p, double tol) {
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({16, 4}, 3, random_purpose("test")) * static_cast<float>(p.prior_std());
    const tensor exact = d.x0(d.ode_solution(x_T, p.t_max(), p.t_min()), p.t_min());
    d.reset_evaluations();
    const tensor got = make_rk45(tol).sample(d, x_T, sampling_context{});
    return {max_abs_difference(got, exact), d.evaluations()};
}

/// Error of `method` with `steps` points against the exact solution from the same x_T.
double error_of(const process& p, const std::string& method, std::int64_t steps) {
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({16, 4}, 3, random_purpose("test"));
    const tensor exact = d.x0(d.ode_solution(x_T, p.t_max(), p.t_min()), p.t_min());
    const auto got = make(method, steps).sample(d, x_T, sampling_context{}).to_vector();
    const auto want = exact.to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
    return worst;
}

double observed_order(const process& p, const std::string& method, std::int64_t steps) {
    return std::log2(error_of(p, method, steps) / error_of(p, method, 2 * steps - 1));  // halve the step size
}

}  // namespace

TEST_CASE("Euler is first order, Heun second order on the VP and VE probability-flow ODEs") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    const ve_sde ve({0.01, 50.0, 1e-5}, context);
    CHECK(observed_order(vp, "euler", 81) == doctest::Approx(1.0).epsilon(0.15));
    CHECK(observed_order(vp, "heun", 41) == doctest::Approx(2.0).epsilon(0.15));
    CHECK(observed_order(ve, "euler", 161) == doctest::Approx(1.0).epsilon(0.15));
    CHECK(observed_order(ve, "heun", 81) == doctest::Approx(2.0).epsilon(0.15));
}

TEST_CASE("RK4 reaches the exact solution to single precision with few steps") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    CHECK(error_of(vp, "rk4", 41) < 1e-4);
    CHECK(error_of(vp, "rk4", 41) < error_of(vp, "heun", 41) / 10);
}

TEST_CASE("evaluations: Euler N, Heun 2N - 1, RK4 4N - 3") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    for (const auto& [method, expected] :
         std::vector<std::pair<std::string, std::int64_t>>{{"euler", 10}, {"heun", 19}, {"rk4", 37}}) {
        const gaussian_denoiser d(vp, 1.0);
        make(method, 10).sample(d, randn({2, 2}, 0, 1), sampling_context{});
        CHECK_MESSAGE(d.evaluations() == expected, method);
    }
}

TEST_CASE("evaluations(p) gives the fixed methods' exact counts, 0 for adaptive RK45") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    for (const std::string method : {"euler", "heun", "rk4"}) {
        for (const std::int64_t steps : {1, 2, 13}) {
            const gaussian_denoiser d(vp, 1.0);
            const ode_sampler s = make(method, steps);
            s.sample(d, randn({3, 2}, 0, 1), sampling_context{});
            CHECK_MESSAGE(d.evaluations() == s.evaluations(vp), method, " ", steps);
        }
    }
    CHECK(make_rk45(1e-5).evaluations(vp) == 0);
}

TEST_CASE("RK45 matches the exact probability-flow ODE solution on the VP and VE SDEs") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    const ve_sde ve({0.01, 50.0, 1e-5}, context);
    for (const process* p : {static_cast<const process*>(&vp), static_cast<const process*>(&ve)}) {
        const auto [loose_error, loose_nfe] = rk45_error(*p, 1e-3);
        const auto [tight_error, tight_nfe] = rk45_error(*p, 1e-6);
        MESSAGE("rtol = atol = 1e-3: error ", loose_error, ", NFE ", loose_nfe, "; 1e-6: error ", tight_error, ", NFE ",
                tight_nfe, " (16 samples)");
        CHECK(tight_error < 1e-5);
        CHECK(tight_error < loose_error / 10);
        CHECK(tight_nfe > loose_nfe);
        // 2 + 6 per attempted step + 1 final denoising for each of the 16 rows.
        CHECK((tight_nfe - 3 * 16) % 6 == 0);
    }
}

TEST_CASE("RK45 integrates each sample alone: a slice of the batch gives the same samples and NFE sum") {
    const ve_sde ve({0.01, 50.0, 1e-5}, context);
    const gaussian_denoiser d(ve, 0.25);
    const ode_sampler s = make_rk45(1e-5);
    const tensor x_T = randn({8, 3}, 7, random_purpose("test")) * static_cast<float>(ve.prior_std());
    const auto all = s.sample(d, x_T, sampling_context{}).to_vector();
    const std::int64_t batch_nfe = d.evaluations();
    sampling_context part;
    std::int64_t row_nfe = 0;
    for (std::int64_t i = 0; i < 8; ++i) {
        d.reset_evaluations();
        part.first_index = static_cast<std::uint64_t>(i);
        const auto row = s.sample(d, x_T.slice(0, i, i + 1).contiguous(), part).to_vector();
        row_nfe += d.evaluations();
        for (std::size_t j = 0; j < 3; ++j) CHECK(row[j] == all[static_cast<std::size_t>(i) * 3 + j]);
    }
    CHECK(row_nfe == batch_nfe);
    part.first_index = 2;
    const auto slice = s.sample(d, x_T.slice(0, 2, 5).contiguous(), part).to_vector();
    for (std::size_t j = 0; j < slice.size(); ++j) CHECK(slice[j] == all[6 + j]);
    // steps and spacing do not change RK45.
    CHECK(make_rk45(1e-5, 3).sample(d, x_T, sampling_context{}).to_vector() == all);
}
