// SPDX-License-Identifier: Apache-2.0
// Distances between sample sets and a known distribution.
#include "sample_statistics.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/sample_distances.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab::plugins {

double sliced_wasserstein(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, std::int64_t projections,
                          std::uint64_t seed) {
    if (a.rows() != b.rows() || a.cols() != b.cols() || a.rows() == 0)
        throw error(fmt::format("sliced Wasserstein needs two equal, non-empty sample sets, got {}x{} and {}x{}",
                                a.rows(), a.cols(), b.rows(), b.cols()));
    using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const row_major ra = a, rb = b;
    return difflab::sliced_wasserstein(ra.data(), rb.data(), ra.rows(), ra.cols(), projections, seed);
}

double mean_error(const Eigen::MatrixXd& samples, const Eigen::VectorXd& mean) {
    const Eigen::VectorXd sample_mean = samples.colwise().mean().transpose();
    return (sample_mean - mean).norm() / std::sqrt(static_cast<double>(mean.size()));
}

double covariance_error(const Eigen::MatrixXd& samples, const Eigen::MatrixXd& covariance) {
    const Eigen::MatrixXd centered = samples.rowwise() - samples.colwise().mean();
    const Eigen::MatrixXd sample_cov = centered.transpose() * centered / static_cast<double>(samples.rows() - 1);
    return (sample_cov - covariance).norm() / covariance.norm();
}

double rms_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return std::sqrt((a - b).squaredNorm() / static_cast<double>(a.size()));
}

}  // namespace difflab::plugins
