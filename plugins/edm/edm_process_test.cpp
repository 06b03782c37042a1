// SPDX-License-Identifier: Apache-2.0
// Tests of the EDM process: the rho-warped time axis, the SDE and the training distribution.
#include "edm_process.h"

#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using difflab::plugins::edm_process;

TEST_CASE("a uniform grid in t is the EDM time discretization (Karras et al. eq. 5)") {
    const edm_process p = testing::build<edm_process>();
    const int n = 18;  // sigma_i = (max^(1/rho) + i / (N - 1) (min^(1/rho) - max^(1/rho)))^rho
    for (int i = 0; i < n; ++i) {
        const double expected = std::pow(
            std::pow(80.0, 1 / 7.0) + i / (n - 1.0) * (std::pow(0.002, 1 / 7.0) - std::pow(80.0, 1 / 7.0)), 7.0);
        CHECK(p.sigma(1.0 - i / (n - 1.0)) == doctest::Approx(expected).epsilon(1e-12));
    }
    CHECK(p.sigma(0.0) == doctest::Approx(0.002));
    CHECK(p.sigma(1.0) == doctest::Approx(80.0));
    for (double t : {0.05, 0.4, 0.95}) {
        CHECK(p.t_of_sigma(p.sigma(t)) == doctest::Approx(t).epsilon(1e-12));
        CHECK(p.t_of_log_snr(p.log_snr(t)) == doctest::Approx(t).epsilon(1e-12));
        CHECK(p.diffusion(t) == doctest::Approx(p.process::diffusion(t)).epsilon(1e-5));
    }
}

TEST_CASE("training draws ln sigma from N(P_mean, P_std^2)") {
    const edm_process p = testing::build<edm_process>();
    // The median of ln sigma is P_mean; u = Phi(1) gives P_mean + P_std.
    CHECK(std::log(p.sigma(p.training_time(0.5))) == doctest::Approx(-1.2).epsilon(1e-9));
    CHECK(std::log(p.sigma(p.training_time(0.8413447460685429))) == doctest::Approx(0.0).scale(1.0).epsilon(1e-9));
    CHECK(p.training_time(0.0) == 0.0);  // clamped to sigma_min
    CHECK(p.training_time(1.0) == 1.0);  // clamped to sigma_max
}

TEST_CASE("the loss weight is (sigma^2 + sigma_data^2) / (sigma sigma_data)^2") {
    const edm_process p = testing::build<edm_process>();
    const double t = p.t_of_sigma(0.5);
    CHECK(p.loss_weight(t) == doctest::Approx((0.25 + 0.25) / (0.25 * 0.25)));
}
