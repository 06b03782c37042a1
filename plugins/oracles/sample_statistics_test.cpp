// SPDX-License-Identifier: Apache-2.0
// Tests of the sample-set distances against closed forms.
#include "sample_statistics.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/sample_distances.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab::plugins;

namespace {

Eigen::MatrixXd normal_samples(Eigen::Index n, Eigen::Index d, std::uint64_t seed) {
    Eigen::MatrixXd out(n, d);
    std::vector<float> z(static_cast<std::size_t>(d));
    for (Eigen::Index i = 0; i < n; ++i) {
        difflab::philox_stream stream(seed, difflab::random_purpose("test"), static_cast<std::uint64_t>(i));
        stream.normal(z.data(), z.size());
        for (Eigen::Index j = 0; j < d; ++j) out(i, j) = z[static_cast<std::size_t>(j)];
    }
    return out;
}

}  // namespace

// The distance itself is tested in tests/core/sample_distances_test.cpp; here, that the Eigen
// form passes rows (not columns) and refuses unequal sets.
TEST_CASE("sliced Wasserstein on Eigen matrices is the core's on the same rows") {
    const Eigen::MatrixXd a = normal_samples(300, 3, 2), b = normal_samples(300, 3, 4);
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ra = a, rb = b;
    CHECK(sliced_wasserstein(a, b, 20, 5) == difflab::sliced_wasserstein(ra.data(), rb.data(), 300, 3, 20, 5));
    // In one dimension a shift by 0.7 is a W2 of exactly 0.7.
    CHECK(sliced_wasserstein(a.leftCols(1), a.leftCols(1).array() + 0.7, 3, 0) == doctest::Approx(0.7).epsilon(1e-12));
    CHECK_THROWS_AS(sliced_wasserstein(a, b.topRows(200), 20, 5), difflab::error);
}

TEST_CASE("mean and covariance errors against the known moments") {
    Eigen::MatrixXd samples(4, 2);
    samples << 1, 0, -1, 0, 0, 2, 0, -2;  // mean 0, covariance diag(2/3, 8/3)
    CHECK(mean_error(samples, Eigen::Vector2d(0.3, 0.4)) == doctest::Approx(0.5 / std::sqrt(2.0)));
    Eigen::Matrix2d cov;
    cov << 2.0 / 3, 0, 0, 8.0 / 3;
    CHECK(covariance_error(samples, cov) < 1e-12);
    CHECK(covariance_error(samples, 2 * cov) == doctest::Approx(0.5));
    CHECK(rms_difference(samples, samples.array() + 0.25) == doctest::Approx(0.25));
}

TEST_CASE("the Gaussian W2: shifts, scalings in 1-D and commuting covariances in closed form, zero to itself") {
    const Eigen::VectorXd zero = Eigen::VectorXd::Zero(1), shift = Eigen::VectorXd::Constant(1, 0.7);
    // 1-D: W2^2 = (m1 - m2)^2 + (s1 - s2)^2.
    CHECK(gaussian_w2(zero, Eigen::MatrixXd::Constant(1, 1, 4.0), shift, Eigen::MatrixXd::Constant(1, 1, 0.25)) ==
          doctest::Approx(std::sqrt(0.49 + 1.5 * 1.5)));
    // Diagonal covariances commute: the per-axis sums.
    const Eigen::MatrixXd a = Eigen::Vector2d(1.0, 9.0).asDiagonal(), b = Eigen::Vector2d(4.0, 1.0).asDiagonal();
    CHECK(gaussian_w2(Eigen::Vector2d(0, 0), a, Eigen::Vector2d(3, 4), b) ==
          doctest::Approx(std::sqrt(25.0 + 1.0 + 4.0)));
    // A full covariance against itself, rotated means: only the shift remains.
    Eigen::Matrix2d c;
    c << 0.5, 0.3, 0.3, 0.4;
    CHECK(gaussian_w2(Eigen::Vector2d(1, 2), c, Eigen::Vector2d(1, 2), c) == doctest::Approx(0.0).scale(1.0));
    CHECK(gaussian_w2(Eigen::Vector2d(1, 2), c, Eigen::Vector2d(1, 1), c) == doctest::Approx(1.0));
    // The sample moments of many draws of N(0, I) are near it.
    const Eigen::MatrixXd z = normal_samples(20000, 2, 9);
    CHECK(gaussian_w2(sample_mean(z), sample_covariance(z), Eigen::Vector2d(0, 0), Eigen::Matrix2d::Identity()) < 0.03);
}
