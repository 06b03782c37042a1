// SPDX-License-Identifier: Apache-2.0
// Tests of the Gaussian-mixture oracle: posterior means against closed forms and Tweedie's formula.
#include "gaussian_mixture.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/process.h>
#include <difflab/testing/test_processes.h>
#include <doctest/doctest.h>

#include <cmath>

#include "exact_gmm_denoiser.h"
#include "test_mixtures.h"

using namespace difflab;
using namespace difflab::plugins;
using difflab::plugins::test_mixtures::three_components;

using difflab::testing::cosine_vp;

TEST_CASE("one component: the posterior mean is the Gaussian conditional expectation") {
    Eigen::MatrixXd c(2, 2);
    c << 0.5, 0.2, 0.2, 0.3;
    const gaussian_mixture m({1.0}, {Eigen::Vector2d(1, -1)}, {c});
    const double a = 0.8, s = 0.6;
    const Eigen::Vector2d x(0.3, 0.9);
    const Eigen::Vector2d expected =
        Eigen::Vector2d(1, -1) +
        a * c * (a * a * c + s * s * Eigen::Matrix2d::Identity()).inverse() * (x - a * Eigen::Vector2d(1, -1));
    const Eigen::VectorXd got = m.posterior_mean(x, a, s);
    CHECK((got - expected).norm() < 1e-12);
}

TEST_CASE("Tweedie's formula: (alpha E[x0|x] - x) / sigma^2 is the gradient of log p_t") {
    const gaussian_mixture m = three_components();
    for (const auto& [a, s] : std::vector<std::pair<double, double>>{{0.95, 0.3}, {0.6, 0.8}, {1.0, 2.0}}) {
        for (const Eigen::Vector2d& x :
             {Eigen::Vector2d(-1.5, 0.2), Eigen::Vector2d(1.0, 2.0), Eigen::Vector2d(0.1, 0.1)}) {
            const Eigen::VectorXd score = (a * m.posterior_mean(x, a, s) - x) / (s * s);
            const double h = 1e-5;
            for (int j = 0; j < 2; ++j) {
                Eigen::Vector2d up = x, down = x;
                up(j) += h;
                down(j) -= h;
                const double numerical = (m.log_density(up, a, s) - m.log_density(down, a, s)) / (2 * h);
                CHECK(score(j) == doctest::Approx(numerical).epsilon(1e-6).scale(1.0));
            }
        }
    }
}

TEST_CASE("the noised density integrates the mixture: at alpha = 1, sigma -> 0 it is p(x0)") {
    Eigen::MatrixXd c(1, 1);
    c << 0.25;
    const gaussian_mixture m({1.0}, {Eigen::VectorXd::Constant(1, 0.5)}, {c});
    // N(0.7; 0.5, 0.25 + 0.01)
    const double variance = 0.25 + 0.01;
    const double expected = -0.5 * (0.04 / variance + std::log(2 * M_PI * variance));
    CHECK(m.log_density(Eigen::VectorXd::Constant(1, 0.7), 1.0, 0.1) == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("the exact denoiser runs the oracle on tensors of any shape") {
    const gaussian_mixture m = three_components();
    const cosine_vp p{1.0};
    const exact_gmm_denoiser d(p, m);
    const tensor x = tensor::from_vector({3, 2}, {-1.5f, 0.2f, 1.0f, 2.0f, 0.1f, 0.1f});
    const double t = 0.4;
    const tensor x0 = d.x0(x, t);
    CHECK(x0.shape() == x.shape());
    const Eigen::MatrixXd columns = Eigen::Map<const Eigen::MatrixXf>(x.to_vector().data(), 2, 3).cast<double>();
    const Eigen::MatrixXd expected = m.posterior_mean(columns, p.alpha(t), p.sigma(t));
    const auto got = x0.to_vector();
    for (int i = 0; i < 6; ++i)
        CHECK(got[static_cast<std::size_t>(i)] == doctest::Approx(expected(i % 2, i / 2)).epsilon(1e-6));
    CHECK(d.evaluations() == 1);
}

TEST_CASE("inconsistent mixtures are refused") {
    CHECK_THROWS_AS(gaussian_mixture({1.0, 1.0}, {Eigen::Vector2d(0, 0)}, {Eigen::Matrix2d::Identity()}), config_error);
    Eigen::Matrix2d singular;
    singular << 1, 1, 1, 1;
    CHECK_THROWS_WITH_AS(gaussian_mixture({1.0}, {Eigen::Vector2d(0, 0)}, {singular}),
                         "error: gmm: covariance 0 is not positive definite", config_error);
}
