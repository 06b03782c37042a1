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

/// W2 between the Gaussians N(m1, C1) and N(m2, C2) (Dowson & Landau 1982; Givens & Shortt 1984):
///     W2^2 = |m1 - m2|^2 + tr(C1 + C2 - 2 (C2^1/2 C1 C2^1/2)^1/2),
/// the exact distance of two Gaussian laws, and of any two laws' moment-matched Gaussians (what the
/// Frechet distance of FID computes in feature space).
double gaussian_w2(const Eigen::VectorXd& m1, const Eigen::MatrixXd& c1, const Eigen::VectorXd& m2,
                   const Eigen::MatrixXd& c2);

/// The sample mean (as a vector) and covariance (divided by n - 1) of the rows.
Eigen::VectorXd sample_mean(const Eigen::MatrixXd& samples);
Eigen::MatrixXd sample_covariance(const Eigen::MatrixXd& samples);

/// RMS per value of the difference of two equally shaped sample sets (paired rows).
double rms_difference(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b);

}  // namespace difflab::plugins
