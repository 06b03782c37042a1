// SPDX-License-Identifier: Apache-2.0
// Distances between sample sets and a known distribution.
#include "sample_statistics.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/sample_distances.h>
#include <fmt/format.h>

#include <algorithm>
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

Eigen::VectorXd sample_mean(const Eigen::MatrixXd& samples) {
    return samples.colwise().mean().transpose();
}

Eigen::MatrixXd sample_covariance(const Eigen::MatrixXd& samples) {
    const Eigen::MatrixXd centered = samples.rowwise() - samples.colwise().mean();
    return centered.transpose() * centered / static_cast<double>(samples.rows() - 1);
}

double mean_error(const Eigen::MatrixXd& samples, const Eigen::VectorXd& mean) {
    return (sample_mean(samples) - mean).norm() / std::sqrt(static_cast<double>(mean.size()));
}

double covariance_error(const Eigen::MatrixXd& samples, const Eigen::MatrixXd& covariance) {
    return (sample_covariance(samples) - covariance).norm() / covariance.norm();
}

namespace {

/// The square root of a symmetric positive semi-definite matrix (negative rounding clipped).
Eigen::MatrixXd psd_sqrt(const Eigen::MatrixXd& m) {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen((m + m.transpose()) / 2);
    return eigen.eigenvectors() * eigen.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal() *
           eigen.eigenvectors().transpose();
}

}  // namespace

double gaussian_w2(const Eigen::VectorXd& m1, const Eigen::MatrixXd& c1, const Eigen::VectorXd& m2,
                   const Eigen::MatrixXd& c2) {
    const Eigen::MatrixXd root2 = psd_sqrt(c2);
    const double trace = (c1 + c2 - 2 * psd_sqrt(root2 * c1 * root2)).trace();
    return std::sqrt(std::max(0.0, (m1 - m2).squaredNorm() + trace));
}

double rms_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
    return std::sqrt((a - b).squaredNorm() / static_cast<double>(a.size()));
}

}  // namespace difflab::plugins
