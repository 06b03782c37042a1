// SPDX-License-Identifier: Apache-2.0
// Distances between sample sets and a known distribution, for comparing samplers on oracles.
#pragma once

#include <Eigen/Dense>
#include <cstdint>

namespace difflab::plugins {

/// difflab::sliced_wasserstein (difflab/diffusion/sample_distances.h) of two sets of equally many
/// samples (rows), copied to the row-major layout it reads.
double sliced_wasserstein(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, std::int64_t projections,
                          std::uint64_t seed);

/// RMS per dimension of the error of the sample mean: |mean(samples) - mean| / sqrt(D).
double mean_error(const Eigen::MatrixXd& samples, const Eigen::VectorXd& mean);

/// Relative Frobenius error of the sample covariance: |Cov(samples) - cov|_F / |cov|_F.
double covariance_error(const Eigen::MatrixXd& samples, const Eigen::MatrixXd& covariance);

/// RMS per value of the difference of two equally shaped sample sets (paired rows).
double rms_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b);

}  // namespace difflab::plugins
