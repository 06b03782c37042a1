// SPDX-License-Identifier: Apache-2.0
// The Gaussian mixture's exact conditionals: class posterior gradients and denoiser Jacobians
// against finite differences, and inpainting conditionals against the joint density.
#include <difflab/diffusion/process.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/test_processes.h>
#include <doctest/doctest.h>

#include <cmath>

#include "exact_gmm_denoiser.h"
#include "gaussian_mixture.h"
#include "test_mixtures.h"

using namespace difflab;
using namespace difflab::plugins;
using difflab::plugins::test_mixtures::three_components;

namespace {

/// log p(k | x_t = x) = log w_k + log N(x; alpha mu_k, C_k) - log p_t(x).
double log_class_posterior(const gaussian_mixture& m, const Eigen::VectorXd& x, std::int64_t k, double a, double s) {
    return std::log(m.weights()[static_cast<std::size_t>(k)]) + m.component(k).log_density(x, a, s) -
           m.log_density(x, a, s);
}

}  // namespace

TEST_CASE("the exact class posterior gradient matches central differences of log p(k | x_t)") {
    const gaussian_mixture m = three_components();
    const double a = 0.7, s = 0.8, h = 1e-5;
    const Eigen::Vector2d points[] = {{0.1, 0.4}, {-1.5, 0.2}, {1.0, 2.0}};
    for (const Eigen::Vector2d& x : points) {
        for (std::int64_t k = 0; k < 3; ++k) {
            const Eigen::MatrixXd g = m.class_log_likelihood_gradient(x, {k}, a, s);
            for (int i = 0; i < 2; ++i) {
                Eigen::Vector2d up = x, down = x;
                up(i) += h;
                down(i) -= h;
                const double difference =
                    (log_class_posterior(m, up, k, a, s) - log_class_posterior(m, down, k, a, s)) / (2 * h);
                CHECK(g(i, 0) == doctest::Approx(difference).epsilon(1e-6).scale(1.0));
            }
        }
    }
}

TEST_CASE("the exact denoiser's vector-Jacobian product matches central differences of E[x0 | x_t]") {
    const gaussian_mixture m = three_components();
    const testing::cosine_vp vp;
    const process& p = vp;
    const exact_gmm_denoiser d(p, m);
    const double t = 0.45, h = 1e-4;
    const Eigen::Vector2d x(0.3, 0.8), v(0.6, -1.1);
    const tensor vjp =
        d.x0_vjp(tensor::from_vector({1, 2}, {0.3f, 0.8f}), t, tensor::from_vector({1, 2}, {0.6f, -1.1f}));
    const double a = p.alpha(t), s = p.sigma(t);
    // J is symmetric, so J^T v = J v = (m(x + h v) - m(x - h v)) / 2h.
    const Eigen::VectorXd jv = (m.posterior_mean(x + h * v, a, s) - m.posterior_mean(x - h * v, a, s)) / (2 * h);
    const std::vector<float> got = vjp.to_vector();
    for (int i = 0; i < 2; ++i) CHECK(got[static_cast<std::size_t>(i)] == doctest::Approx(jv(i)).epsilon(1e-4));
}

TEST_CASE("an inpainting conditional is the joint density renormalized over the missing coordinates") {
    Eigen::MatrixXd c0(3, 3), c1(3, 3);
    c0 << 0.5, 0.2, 0.1, 0.2, 0.4, 0.0, 0.1, 0.0, 0.3;
    c1 << 0.3, -0.1, 0.0, -0.1, 0.2, 0.05, 0.0, 0.05, 0.6;
    const gaussian_mixture m({0.6, 0.4}, {Eigen::Vector3d(-1, 0, 1), Eigen::Vector3d(1, 1, -1)}, {c0, c1});
    // Observe coordinate 1 at 0.5: log p(x_0, x_2 | x_1) - log p(x_0, 0.5, x_2) is the same at
    // every point (minus log p(x_1 = 0.5)).
    const gaussian_mixture given = m.conditioned({1}, Eigen::VectorXd::Constant(1, 0.5));
    REQUIRE(given.dimension() == 2);
    const Eigen::Vector2d points[] = {{0.0, 0.0}, {-1.2, 0.7}, {0.9, -1.4}};
    std::vector<double> gaps;
    for (const Eigen::Vector2d& u : points)
        gaps.push_back(given.log_density(u, 1.0, 0.0 + 1e-9) -
                       m.log_density(Eigen::Vector3d(u(0), 0.5, u(1)), 1.0, 1e-9));
    CHECK(gaps[1] == doctest::Approx(gaps[0]).epsilon(1e-6));
    CHECK(gaps[2] == doctest::Approx(gaps[0]).epsilon(1e-6));
    // One Gaussian in 2-D with correlation rho: x_1 | x_0 = v ~ N(rho v s1 / s0, s1^2 (1 - rho^2)).
    Eigen::MatrixXd c(2, 2);
    c << 4.0, 1.2, 1.2, 1.0;  // s0 = 2, s1 = 1, rho = 0.6
    const gaussian_mixture g =
        gaussian_mixture({1.0}, {Eigen::Vector2d(0, 0)}, {c}).conditioned({0}, Eigen::VectorXd::Constant(1, 1.5));
    CHECK(g.means()[0](0) == doctest::Approx(0.6 * 1.5 / 2.0));
    CHECK(g.covariances()[0](0, 0) == doctest::Approx(1.0 - 0.36));
}

TEST_CASE("the gmm class posterior gives the gradient per sample, with a clear error for a class out of range") {
    const gaussian_mixture m = three_components();
    const testing::cosine_vp vp;
    const process& p = vp;
    const gmm_class_posterior posterior(p, m);
    const tensor x = tensor::from_vector({2, 2}, {0.1f, 0.4f, -1.5f, 0.2f});
    const tensor g = posterior.gradient(x, 0.3, tensor::from_vector({2}, {2.0f, 0.0f}));
    const Eigen::MatrixXd expected = m.class_log_likelihood_gradient(
        (Eigen::MatrixXd(2, 2) << 0.1f, -1.5f, 0.4f, 0.2f).finished(), {2, 0}, p.alpha(0.3), p.sigma(0.3));
    const std::vector<float> got = g.to_vector();
    CHECK(got[0] == doctest::Approx(expected(0, 0)).epsilon(1e-5));
    CHECK(got[3] == doctest::Approx(expected(1, 1)).epsilon(1e-5));
    CHECK_THROWS(posterior.gradient(x, 0.3, tensor::from_vector({2}, {3.0f, 0.0f})));
}

TEST_CASE(
    "a transformed mixture is the law of A x0, and conditioning drops the components an observation rules "
    "out") {
    const gaussian_mixture m = three_components();
    Eigen::Matrix2d a;
    a << 0.6, -0.8, 0.8, 0.6;  // a rotation: densities keep their values at rotated points
    const gaussian_mixture rotated = m.transformed(a);
    const Eigen::Vector2d points[] = {{0.1, 0.4}, {-1.5, 0.2}, {1.0, 2.0}};
    for (const Eigen::Vector2d& x : points)
        CHECK(rotated.log_density(a * x, 0.7, 0.5) == doctest::Approx(m.log_density(x, 0.7, 0.5)).epsilon(1e-9));
    CHECK_THROWS(m.transformed(Eigen::Matrix3d::Identity()));
    // Two far apart components; observing coordinate 0 at the second one's mean leaves it alone.
    const Eigen::Matrix2d c = Eigen::Matrix2d::Identity() * 0.01;
    const gaussian_mixture far({0.5, 0.5}, {Eigen::Vector2d(-10, 0), Eigen::Vector2d(10, 1)}, {c, c});
    const gaussian_mixture given = far.conditioned({0}, Eigen::VectorXd::Constant(1, 10.0));
    REQUIRE(given.components() == 1);
    CHECK(given.means()[0](0) == doctest::Approx(1.0));
}
