// SPDX-License-Identifier: Apache-2.0
// Tests of the Dormand-Prince 5(4) integrator against closed forms and scipy's RK45.
#include "dormand_prince.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// y' = -2 y for one part of three values.
dormand_prince_result decay(double tol) {
    const ode_function f = [](double, const ode_state& y) { return ode_state{y[0] * -2.0f}; };
    return dormand_prince(f, {tensor::from_vector({3}, {1.0f, -0.5f, 2.0f})}, 0.0, 1.0, {tol, tol});
}

double worst_decay_error(const dormand_prince_result& r) {
    const auto y = r.y[0].to_vector();
    const double want[3] = {1.0, -0.5, 2.0};
    double worst = 0;
    for (int i = 0; i < 3; ++i)
        worst = std::max(worst, std::abs(y[static_cast<std::size_t>(i)] - want[i] * std::exp(-2.0)));
    return worst;
}

}  // namespace

// Known answers from scipy 1.10.1: solve_ivp(lambda t, y: -2 * y, (0, 1), [1, -0.5, 2],
// method="RK45", rtol=tol, atol=tol) takes nfev 20, 50, 116 (3, 8, 19 steps, none rejected)
// for tol 1e-3, 1e-6, 1e-8, with y[0](1) = 0.13561131649997027, 0.13533548711843976,
// 0.13533528529602806. The same step-size control gives the same steps here.
TEST_CASE("Dormand-Prince takes the same steps as scipy RK45 on y' = -2 y") {
    const double tols[3] = {1e-3, 1e-6, 1e-8};
    const std::int64_t nfev[3] = {20, 50, 116}, steps[3] = {3, 8, 19};
    const double y0_at_1[3] = {0.13561131649997027, 0.13533548711843976, 0.13533528529602806};
    for (int i = 0; i < 3; ++i) {
        const dormand_prince_result r = decay(tols[i]);
        CAPTURE(tols[i]);
        CHECK(r.evaluations == nfev[i]);
        CHECK(r.accepted == steps[i]);
        CHECK(r.rejected == 0);
        CHECK(r.evaluations == 2 + 6 * (r.accepted + r.rejected));
        CHECK(r.y[0].to_vector()[0] == doctest::Approx(y0_at_1[i]).epsilon(1e-6));
    }
    // Error against the exact e^-2 y0 shrinks with the tolerance: scipy's are 5.5e-4, 4.1e-7, 4.1e-9
    // (the last is below f32 resolution here, so the check stops at 1e-6).
    CHECK(worst_decay_error(decay(1e-3)) == doctest::Approx(5.52e-4).epsilon(0.01));
    CHECK(worst_decay_error(decay(1e-6)) < 5e-7);
    CHECK(worst_decay_error(decay(1e-6)) < worst_decay_error(decay(1e-3)) / 100);
}

// scipy 1.10.1: solve_ivp(lambda t, y: [y[1], -y[0]], (3, 0), [cos 3, -sin 3], rtol=atol=1e-6)
// takes nfev 74 (12 steps) and ends at [0.9999988543895586, 5.78323909206091e-07].
TEST_CASE("Dormand-Prince integrates backwards in time a state made of two parts") {
    const ode_function f = [](double, const ode_state& y) { return ode_state{y[1], -y[0]}; };
    const ode_state y0{tensor::from_vector({1}, {static_cast<float>(std::cos(3.0))}),
                       tensor::from_vector({1, 1}, {static_cast<float>(-std::sin(3.0))})};
    const dormand_prince_result r = dormand_prince(f, y0, 3.0, 0.0, {1e-6, 1e-6});
    CHECK(r.evaluations == 74);
    CHECK(r.accepted == 12);
    REQUIRE(r.y.size() == 2);
    CHECK(r.y[1].shape() == shape_t{1, 1});
    CHECK(r.y[0].item() == doctest::Approx(0.9999988543895586).epsilon(1e-6));
    CHECK(std::abs(r.y[1].item() - 5.78323909206091e-07) < 1e-6);
}

TEST_CASE("Dormand-Prince passes the time to F (y' = cos(t) y) and rejects a step when it must") {
    // scipy: nfev 56 (8 steps), y(2) = 2.4825791196748317; exact e^sin 2 = 2.4825777280150003.
    const ode_function f = [](double t, const ode_state& y) {
        return ode_state{y[0] * static_cast<float>(std::cos(t))};
    };
    const dormand_prince_result r = dormand_prince(f, {tensor::from_vector({1}, {1.0f})}, 0.0, 2.0, {1e-6, 1e-6});
    CHECK(r.evaluations == 56);
    CHECK(r.y[0].item() == doctest::Approx(2.4825791196748317).epsilon(1e-6));

    // A step through a jump of F at t = 0.5 must be rejected and retried smaller.
    const ode_function jump = [](double t, const ode_state& y) {
        return ode_state{tensor::full(y[0].shape(), t < 0.5 ? 0.0f : 100.0f)};
    };
    const dormand_prince_result j = dormand_prince(jump, {tensor::zeros({1})}, 0.0, 1.0, {1e-6, 1e-6});
    CHECK(j.rejected > 0);
    CHECK(j.evaluations == 2 + 6 * (j.accepted + j.rejected));
    CHECK(j.y[0].item() == doctest::Approx(50.0).epsilon(1e-4));
}

TEST_CASE("Dormand-Prince: nothing to do for t0 == t1, errors for bad tolerances and a diverging F") {
    const ode_function f = [](double, const ode_state& y) { return ode_state{y[0]}; };
    const dormand_prince_result r = dormand_prince(f, {tensor::ones({2})}, 0.5, 0.5);
    CHECK(r.evaluations == 0);
    CHECK(r.y[0].to_vector() == std::vector<float>{1.0f, 1.0f});
    CHECK_THROWS_AS(dormand_prince(f, {tensor::ones({2})}, 0.0, 1.0, {0.0, 1e-5}), error);
    const ode_function nan = [](double t, const ode_state& y) {
        return ode_state{tensor::full(y[0].shape(), t > 0.25 ? std::nanf("") : 1.0f)};
    };
    CHECK_THROWS_AS(dormand_prince(nan, {tensor::ones({2})}, 0.0, 1.0), error);
    const ode_function wrong_size = [](double, const ode_state&) { return ode_state{tensor::ones({3})}; };
    CHECK_THROWS_AS(dormand_prince(wrong_size, {tensor::ones({2})}, 0.0, 1.0), error);
}
