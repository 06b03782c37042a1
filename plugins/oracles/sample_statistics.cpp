// SPDX-License-Identifier: Apache-2.0
// Distances between sample sets and a known distribution.
#include "sample_statistics.h"

#include <difflab/error.h>
#include <difflab/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace difflab::plugins {

double sliced_wasserstein(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, std::int64_t projections,
                          std::uint64_t seed) {
    if (a.rows() != b.rows() || a.cols() != b.cols() || a.rows() == 0)
        throw error(fmt::format("error: sliced Wasserstein needs two equal, non-empty sample sets, got {}x{} and {}x{}",
                                a.rows(), a.cols(), b.rows(), b.cols()));
    const Eigen::Index n = a.rows(), d = a.cols();
    double total = 0;
    std::vector<float> z(static_cast<std::size_t>(d));
    for (std::int64_t k = 0; k < projections; ++k) {
        philox_stream stream(seed, random_purpose("oracle/sliced_wasserstein"), static_cast<std::uint64_t>(k));
        stream.normal(z.data(), z.size());
        Eigen::VectorXd theta = Eigen::Map<Eigen::VectorXf>(z.data(), d).cast<double>();
        theta /= theta.norm();
        Eigen::VectorXd pa = a * theta, pb = b * theta;
        std::sort(pa.data(), pa.data() + n);
        std::sort(pb.data(), pb.data() + n);
        total += (pa - pb).squaredNorm() / static_cast<double>(n);
    }
    return std::sqrt(total / static_cast<double>(projections));
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
