// SPDX-License-Identifier: Apache-2.0
// Tests of DPM-Solver and DPM-Solver++: convergence orders against the exact ODE solution.
#include "dpm_solver.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/test_processes.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using namespace difflab::plugins;

using difflab::testing::cosine_vp;

namespace {

template <class Solver>
double error_of(const std::string& options) {
    const cosine_vp p{0.99};
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({16, 4}, 3, random_purpose("test"));
    const tensor exact = d.x0(d.ode_solution(x_T, p.t_max(), p.t_min()), p.t_min());
    const auto got = testing::build<Solver>(options).sample(d, x_T, sampling_context{}).to_vector();
    const auto want = exact.to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
    return worst;
}

template <class Solver>
double order_of(const std::string& base, std::int64_t steps) {
    const auto with = [&](std::int64_t n) { return "{" + base + ", steps: " + std::to_string(n) + "}"; };
    return std::log2(error_of<Solver>(with(steps)) / error_of<Solver>(with(2 * steps - 1)));
}

}  // namespace

TEST_CASE("DPM-Solver multistep: observed orders 1 and 2, order 3 beats order 2") {
    CHECK(order_of<dpm_solver>("order: 1", 41) == doctest::Approx(1.0).epsilon(0.15));
    CHECK(order_of<dpm_solver>("order: 2", 21) == doctest::Approx(2.0).epsilon(0.15));
    // Multistep order 3 starts with a first-order step (as Lu et al.'s implementation does),
    // whose O(h^2) local error bounds the global order by 2; it is still far more accurate.
    CHECK(order_of<dpm_solver>("order: 3", 21) > 1.8);
    CHECK(error_of<dpm_solver>("{order: 3, steps: 21}") < error_of<dpm_solver>("{order: 2, steps: 21}") / 2);
}

TEST_CASE("DPM-Solver single-step: observed orders 2 and 3") {
    CHECK(order_of<dpm_solver>("order: 2, method: singlestep", 21) == doctest::Approx(2.0).epsilon(0.15));
    CHECK(order_of<dpm_solver>("order: 3, method: singlestep", 11) == doctest::Approx(3.0).epsilon(0.15));
}

TEST_CASE("DPM-Solver++ (data prediction): 2M is second order") {
    CHECK(order_of<dpm_solver_pp>("order: 2", 21) == doctest::Approx(2.0).epsilon(0.15));
    CHECK(error_of<dpm_solver_pp>("{order: 2, steps: 20}") < error_of<dpm_solver_pp>("{order: 1, steps: 20}") / 5);
}

TEST_CASE("evaluations: multistep N, single-step k (N - 1) + 1") {
    const cosine_vp p{0.99};
    const gaussian_denoiser d(p, 1.0);
    testing::build<dpm_solver_pp>("{steps: 10}").sample(d, randn({2, 2}, 0, 1), sampling_context{});
    CHECK(d.evaluations() == 10);
    d.reset_evaluations();
    testing::build<dpm_solver>("{steps: 10, order: 3, method: singlestep}")
        .sample(d, randn({2, 2}, 0, 1), sampling_context{});
    CHECK(d.evaluations() == 28);
}
