// SPDX-License-Identifier: Apache-2.0
// The exact law of Gaussian-mixture data given a noiseless linear measurement.
#include "measurement_posterior.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "oracle_evaluation.h"

namespace difflab::plugins {

namespace {

/// V^T from the operator: its V applied to the identity's rows gives V's columns.
Eigen::MatrixXd right_singular_vectors(const measurement& h, std::int64_t d) {
    return rows_of(h.v(batch_of(Eigen::MatrixXd::Identity(d, d), {d}))).transpose();
}

/// The coefficients the measurement fixes: r = the singular values above 1e-10 of the largest,
/// the cutoff of measurement::pseudo_inverse.
std::int64_t rank_of(const std::vector<double>& s) {
    const double top = s.empty() ? 0.0 : s.front();
    return std::count_if(s.begin(), s.end(), [top](double v) { return v > 1e-10 * top; });
}

}  // namespace

measurement_posterior::measurement_posterior(const gaussian_mixture& prior, const measurement& h, const tensor& y) {
    const std::int64_t d = prior.dimension();
    if (!h.bound() || h.example_size() != d)
        throw error(
            fmt::format("measurement posterior: the measurement is {} but the data have {} values per example; "
                        "bind it to the data's example shape",
                        h.bound() ? fmt::format("bound to {} values", h.example_size()) : "unbound", d));
    if (h.noise_std() > 0)
        throw config_error(
            fmt::format("measurement posterior: the measurement has noise_std {} but the exact "
                        "conditional here is of noiseless measurements; set noise_std: 0",
                        h.noise_std()));
    const std::vector<double>& s = h.singular_values();
    const std::int64_t r = rank_of(s);
    if (r == d)
        throw config_error(
            fmt::format("measurement posterior: the measurement observes all {} directions of the "
                        "data, so nothing is left to sample; measure fewer values",
                        d));
    v_ = right_singular_vectors(h, d);
    const Eigen::MatrixXd u_y = rows_of(h.u_transpose(y));
    if (u_y.rows() != 1) throw error(fmt::format("measurement posterior: {} measurements given; give one", u_y.rows()));
    fixed_.resize(r);
    for (std::int64_t i = 0; i < r; ++i) fixed_(i) = u_y(0, i) / s[static_cast<std::size_t>(i)];
    const gaussian_mixture rotated = prior.transformed(v_.transpose());
    std::vector<std::int64_t> observed(static_cast<std::size_t>(r));
    std::iota(observed.begin(), observed.end(), 0);
    rest_ = std::make_unique<gaussian_mixture>(r == 0 ? rotated : rotated.conditioned(observed, fixed_));

    Eigen::VectorXd c(d);
    c << fixed_, rest_->mean();
    mean_ = v_ * c;
    Eigen::MatrixXd spread = Eigen::MatrixXd::Zero(d, d);
    spread.bottomRightCorner(d - r, d - r) = rest_->covariance();
    covariance_ = v_ * spread * v_.transpose();
    // y must be a measurement of something: H of the conditional mean gives it back.
    const Eigen::MatrixXd back = rows_of(h.apply(batch_of(mean_.transpose(), h.example_shape())));
    const Eigen::MatrixXd given = rows_of(y);
    if ((back - given).norm() > 1e-4 * (1 + given.norm()))
        throw config_error(
            fmt::format("measurement posterior: y is not a measurement H x of any x (H of the "
                        "conditional mean misses it by {:.3g}); take y = H x",
                        (back - given).norm()));
}

Eigen::MatrixXd measurement_posterior::draw(std::int64_t n, std::uint64_t seed, std::uint64_t purpose,
                                            std::uint64_t first) const {
    const std::int64_t d = v_.rows(), r = fixed_.size();
    Eigen::MatrixXd c(n, d);
    c.leftCols(r) = fixed_.transpose().replicate(n, 1);
    c.rightCols(d - r) = rest_->draw(n, seed, purpose, first);
    return c * v_.transpose();
}

}  // namespace difflab::plugins
