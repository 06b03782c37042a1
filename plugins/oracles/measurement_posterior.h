// SPDX-License-Identifier: Apache-2.0
// The exact law of Gaussian-mixture data given a noiseless linear measurement of it.
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/tensor/tensor.h>

#include <Eigen/Dense>
#include <cstdint>
#include <memory>

#include "gaussian_mixture.h"

namespace difflab::plugins {

/// p(x0 | H x0 = y) for x0 from a Gaussian mixture and a noiseless linear measurement H
/// (measurement.h), the answer every inpainting or linear inverse-problem method approximates.
/// In the coordinates c = V^T x0 of H's SVD H = U diag(s) V^T, H x0 = y fixes the r coefficients
/// paired with nonzero singular values, c_i = (U^T y)_i / s_i, and leaves the other D - r a
/// Gaussian mixture (gaussian_mixture::transformed by V^T, then conditioned on the first r);
/// x0 = V c. For a mask V is a permutation, and this is the coordinate conditional of
/// gaussian_mixture::conditioned; any operator that binds to the data's shape works.
class measurement_posterior {
public:
    /// `h` bound to the mixture's dimension (examples of D values); `y` one measurement
    /// [1, ...measured], H x for some x (in the range of H). Throws a config_error when H
    /// observes every direction (nothing is left to sample) or reports measurement noise.
    measurement_posterior(const gaussian_mixture& prior, const measurement& h, const tensor& y);

    /// n exact samples as rows (n x D): row i from the stream (seed, purpose, first + i).
    Eigen::MatrixXd draw(std::int64_t n, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first = 0) const;
    const Eigen::VectorXd& mean() const { return mean_; }
    const Eigen::MatrixXd& covariance() const { return covariance_; }
    /// The law of the unobserved coefficients c_r.. (a mixture in D - r dimensions).
    const gaussian_mixture& unobserved() const { return *rest_; }

private:
    Eigen::MatrixXd v_;      ///< D x D, columns the right singular vectors
    Eigen::VectorXd fixed_;  ///< the r coefficients the measurement fixes
    std::unique_ptr<gaussian_mixture> rest_;
    Eigen::VectorXd mean_;
    Eigen::MatrixXd covariance_;
};

}  // namespace difflab::plugins
