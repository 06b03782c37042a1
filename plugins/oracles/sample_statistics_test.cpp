// SPDX-License-Identifier: Apache-2.0
// Tests of the sample-set distances against closed forms.
#include "sample_statistics.h"

#include <difflab/random.h>
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

TEST_CASE("sliced Wasserstein is exact W2 in one dimension") {
    const Eigen::MatrixXd a = normal_samples(500, 1, 1);
    // A shift by c moves every quantile by c; a scaling by s around 0 moves quantile q by (s - 1) q.
    CHECK(sliced_wasserstein(a, a.array() + 0.7, 3, 0) == doctest::Approx(0.7).epsilon(1e-12));
    const double rms = std::sqrt(a.squaredNorm() / 500.0);
    CHECK(sliced_wasserstein(a, 1.5 * a, 3, 0) == doctest::Approx(0.5 * rms).epsilon(1e-12));
}

TEST_CASE("sliced Wasserstein ignores sample order and averages over directions") {
    const Eigen::MatrixXd a = normal_samples(400, 3, 2);
    const Eigen::MatrixXd reversed = a.colwise().reverse();
    CHECK(sliced_wasserstein(a, reversed, 50, 7) < 1e-12);
    // A shift c projects to theta . c; over uniform directions E[(theta . c)^2] = |c|^2 / D.
    const Eigen::RowVector3d c(0.3, -0.4, 1.2);
    const double expected = c.norm() / std::sqrt(3.0);
    CHECK(sliced_wasserstein(a, a.rowwise() + c, 4000, 3) == doctest::Approx(expected).epsilon(0.03));
    // The same seed gives the same directions, hence the same value.
    const Eigen::MatrixXd b = normal_samples(400, 3, 9);
    CHECK(sliced_wasserstein(a, b, 20, 5) == sliced_wasserstein(a, b, 20, 5));
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
