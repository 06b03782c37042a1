// SPDX-License-Identifier: Apache-2.0
// Tests of the VP, sub-VP and VE SDEs: marginals, closed forms against the numerical defaults.
#include "sde_processes.h"

#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// The analytic drift, diffusion and log-SNR inverse agree with the generic numerical ones
/// that process derives from alpha(t) and sigma(t) alone.
void check_sde_consistency(const process& p) {
    for (double t : {0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99}) {
        CAPTURE(t);
        CHECK(p.drift(t) == doctest::Approx(p.process::drift(t)).epsilon(1e-6));
        CHECK(p.diffusion(t) == doctest::Approx(p.process::diffusion(t)).epsilon(1e-5));
        CHECK(p.t_of_log_snr(p.log_snr(t)) == doctest::Approx(t).epsilon(1e-9));
        CHECK(p.process::t_of_log_snr(p.log_snr(t)) == doctest::Approx(t).epsilon(1e-9));
    }
}

}  // namespace

TEST_CASE("VP SDE: alpha = exp(-B/2), variance preserving, and its SDE") {
    const auto p = testing::build<vp_sde>();
    // B(1) = 0.1 + 19.9 / 2 = 10.05.
    CHECK(p.alpha(1.0) == doctest::Approx(std::exp(-10.05 / 2)));
    for (double t : {0.0, 0.2, 0.6, 1.0})
        CHECK(p.alpha(t) * p.alpha(t) + p.sigma(t) * p.sigma(t) == doctest::Approx(1.0));
    CHECK(p.drift(0.5) == doctest::Approx(-0.5 * (0.1 + 0.5 * 19.9)));
    check_sde_consistency(p);
    CHECK(p.t_min() == 1e-3);
    CHECK(p.training_time(0.0) == 1e-5);
    CHECK(p.prior_std() == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("sub-VP SDE: sigma = 1 - alpha^2, below the VP variance") {
    const auto p = testing::build<subvp_sde>();
    const auto vp = testing::build<vp_sde>();
    for (double t : {0.05, 0.3, 0.8}) {
        CHECK(p.sigma(t) == doctest::Approx(1.0 - p.alpha(t) * p.alpha(t)));
        CHECK(p.sigma(t) < vp.sigma(t));
    }
    check_sde_consistency(p);
}

TEST_CASE("VE SDE: geometric sigma from sigma_min to sigma_max, no drift") {
    const auto p = testing::build<ve_sde>("{sigma_min: 0.01, sigma_max: 50}");
    CHECK(p.sigma(0.0) == doctest::Approx(0.01));
    CHECK(p.sigma(1.0) == doctest::Approx(50.0));
    CHECK(p.sigma(0.5) == doctest::Approx(std::sqrt(0.01 * 50.0)));
    CHECK(p.prior_std() == doctest::Approx(std::sqrt(1.0 + 2500.0)));
    check_sde_consistency(p);
}

TEST_CASE("inconsistent options are refused with the values") {
    CHECK_THROWS_WITH_AS(testing::build<vp_sde>("{beta_min: 5, beta_max: 1}"),
                         "error: vp_sde: beta_max (1) is below beta_min (5); swap them", config_error);
    CHECK_THROWS_WITH_AS(testing::build<ve_sde>("{sigma_min: 2, sigma_max: 1}"),
                         "error: ve_sde: sigma_max (1) must exceed sigma_min (2); swap them", config_error);
}
