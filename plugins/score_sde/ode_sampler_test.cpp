// SPDX-License-Identifier: Apache-2.0
// Tests of the probability-flow ODE solvers: convergence orders against the exact solution.
#include "ode_sampler.h"

#include <difflab/gaussian_denoiser.h>
#include <difflab/random.h>
#include <difflab/testing.h>
#include <doctest/doctest.h>

#include <cmath>

#include "sde_processes.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

build_context& context = testing::test_context();

ode_sampler make(const std::string& method, std::int64_t steps) {
    return testing::build<ode_sampler>("{method: " + method + ", steps: " + std::to_string(steps) + "}");
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
