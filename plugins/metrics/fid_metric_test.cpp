// SPDX-License-Identifier: Apache-2.0
// Tests of the Fréchet distance and of feature statistics against closed forms.
#include "fid_metric.h"

#include <difflab/tensor/random.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// n rows of N(mean, diag(variances)) from a Philox stream.
Eigen::MatrixXd gaussian_rows(std::int64_t n, const std::vector<double>& mean, const std::vector<double>& variances,
                              std::uint64_t seed) {
    const auto f = static_cast<std::int64_t>(mean.size());
    const std::vector<float> z = randn({n, f}, seed, random_purpose("test/fid")).to_vector();
    Eigen::MatrixXd out(n, f);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < f; ++j)
            out(i, j) = mean[static_cast<std::size_t>(j)] +
                        std::sqrt(variances[static_cast<std::size_t>(j)]) * z[static_cast<std::size_t>(i * f + j)];
    return out;
}

}  // namespace

TEST_CASE("feature statistics: the mean and the covariance with the N - 1 denominator") {
    Eigen::MatrixXd x(3, 2);
    x << 1, 2,  //
        3, 6,   //
        5, 7;
    const gaussian_statistics s = feature_statistics(x);
    CHECK(s.mean(0) == doctest::Approx(3.0));
    CHECK(s.mean(1) == doctest::Approx(5.0));
    // deviations (-2, -3), (0, 1), (2, 2): sums of products 8, 10, 14 over N - 1 = 2
    CHECK(s.covariance(0, 0) == doctest::Approx(4.0));
    CHECK(s.covariance(0, 1) == doctest::Approx(5.0));
    CHECK(s.covariance(1, 0) == doctest::Approx(5.0));
    CHECK(s.covariance(1, 1) == doctest::Approx(7.0));
    CHECK_THROWS_AS(feature_statistics(Eigen::MatrixXd::Ones(1, 2)), difflab::error);
}

TEST_CASE("the Frechet distance of a Gaussian to itself is 0") {
    const gaussian_statistics s = feature_statistics(gaussian_rows(500, {1, -2, 0.5, 3}, {1, 4, 0.25, 2}, 1));
    const double d = frechet_distance(s.mean, s.covariance, s.mean, s.covariance);
    CHECK(d >= 0.0);
    CHECK(d <= 1e-9 * s.covariance.trace());
}

TEST_CASE("diagonal covariances: |m1 - m2|^2 + sum (sqrt(a) - sqrt(b))^2") {
    Eigen::VectorXd m1(3), m2(3), a(3), b(3);
    m1 << 0, 1, 2;
    m2 << 1, 1, 0;
    a << 1, 4, 9;
    b << 4, 4, 1;
    // |m1 - m2|^2 = 1 + 0 + 4 = 5; (1 - 2)^2 + 0 + (3 - 1)^2 = 5
    CHECK(frechet_distance(m1, a.asDiagonal().toDenseMatrix(), m2, b.asDiagonal().toDenseMatrix()) ==
          doctest::Approx(10.0).epsilon(1e-12));
    // Commuting but not diagonal: rotate both covariances by the same orthogonal matrix.
    Eigen::Matrix3d q = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()).toRotationMatrix();
    const Eigen::MatrixXd c1 = q * a.asDiagonal() * q.transpose(), c2 = q * b.asDiagonal() * q.transpose();
    CHECK(frechet_distance(m1, c1, m2, c2) == doctest::Approx(10.0).epsilon(1e-10));
    // The distance is symmetric.
    CHECK(frechet_distance(m2, c2, m1, c1) == doctest::Approx(10.0).epsilon(1e-10));
}

TEST_CASE("non-commuting 2x2 covariances against an independently computed value") {
    Eigen::Matrix2d c1, c2;
    c1 << 2, 1,  //
        1, 2;
    c2 << 1, 0,  //
        0, 3;
    Eigen::Vector2d m1(0, 0), m2(1, 2);
    // Computed without eigendecompositions: the eigenvalues l1, l2 of c1 c2 are real and positive,
    // so tr((c1 c2)^{1/2}) = sqrt(l1) + sqrt(l2) = sqrt(tr(c1 c2) + 2 sqrt(det(c1 c2))); with
    // tr(c1 c2) = 8 and det(c1 c2) = 3 * 3 = 9 that is sqrt(14), and
    // FID = |m1 - m2|^2 + tr(c1) + tr(c2) - 2 sqrt(14) = 5 + 4 + 4 - 2 sqrt(14)
    //     = 5.516685226452117 (python3: 13 - 2 * math.sqrt(14)).
    CHECK(frechet_distance(m1, c1, m2, c2) == doctest::Approx(5.516685226452117).epsilon(1e-12));
}

TEST_CASE("two sampled Gaussian feature sets give the closed form within sampling error") {
    const std::vector<double> m1{0, 1, -1}, m2{0.5, 1, 0}, a{1, 2, 0.5}, b{2, 1, 0.5};
    double expected = 0;
    for (std::size_t j = 0; j < 3; ++j)
        expected += (m1[j] - m2[j]) * (m1[j] - m2[j]) + std::pow(std::sqrt(a[j]) - std::sqrt(b[j]), 2);
    // expected = 1.25 + 2 (sqrt(2) - 1)^2 = 1.593...
    const gaussian_statistics s1 = feature_statistics(gaussian_rows(20000, m1, a, 1));
    const gaussian_statistics s2 = feature_statistics(gaussian_rows(20000, m2, b, 2));
    const double d = frechet_distance(s1.mean, s1.covariance, s2.mean, s2.covariance);
    // Sampling error of the means and covariances at N = 20000 is about 1e-2 in the distance.
    CHECK(d == doctest::Approx(expected).epsilon(0.03));
    CHECK(std::abs(d - expected) > 0.0);  // it does not merely echo the closed form
}

TEST_CASE("mismatched dimensions are errors") {
    CHECK_THROWS_AS(frechet_distance(Eigen::VectorXd::Zero(2), Eigen::MatrixXd::Identity(2, 2),
                                     Eigen::VectorXd::Zero(3), Eigen::MatrixXd::Identity(3, 3)),
                    difflab::error);
}
