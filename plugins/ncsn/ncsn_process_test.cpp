// SPDX-License-Identifier: Apache-2.0
// Tests of the NCSN noise levels.
#include "ncsn_process.h"

#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using difflab::plugins::ncsn_process;

TEST_CASE("the levels are the paper's geometric sequence from sigma_1 to sigma_L") {
    const ncsn_process p = testing::build<ncsn_process>();  // sigma_1 = 1, sigma_10 = 0.01
    const auto s = p.sigmas();
    REQUIRE(s.size() == 10);
    CHECK(s.front() == doctest::Approx(1.0));
    CHECK(s.back() == doctest::Approx(0.01));
    for (std::size_t i = 1; i < s.size(); ++i) CHECK(s[i - 1] / s[i] == doctest::Approx(std::pow(100.0, 1.0 / 9.0)));
    CHECK(p.sigma(1.0) == doctest::Approx(1.0));
    CHECK(p.sigma(p.t_min()) == doctest::Approx(0.01));
}

TEST_CASE("NCSN is a VE process: alpha 1, no drift, g^2 = d sigma^2 / dt") {
    const ncsn_process p = testing::build<ncsn_process>("{sigma_min: 0.01, sigma_max: 50, levels: 232}");
    for (double t : {0.1, 0.5, 0.9}) {
        const double rate = std::log(50.0 / 0.01) * 232.0 / 231.0;  // d log sigma / dt
        CHECK(p.diffusion(t) == doctest::Approx(p.sigma(t) * std::sqrt(2.0 * rate)).epsilon(1e-5));
        CHECK(p.t_of_log_snr(p.log_snr(t)) == doctest::Approx(t).epsilon(1e-9));
    }
    CHECK(p.loss_weight(0.5) == doctest::Approx(1.0 / (p.sigma(0.5) * p.sigma(0.5))));
}

TEST_CASE("training draws the levels uniformly") {
    const ncsn_process p = testing::build<ncsn_process>("{levels: 4}");
    CHECK(p.training_time(0.0) == doctest::Approx(0.25));
    CHECK(p.training_time(0.99) == doctest::Approx(1.0));
}
