// SPDX-License-Identifier: Apache-2.0
// Gaussian mixtures: sampling, noised densities and exact posterior means.
#include "gaussian_mixture.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace difflab::plugins {

namespace {

constexpr double log_two_pi = 1.8378770664093453;

struct noised_component {
    Eigen::LLT<Eigen::MatrixXd> factor;  // of C_k = alpha^2 Sigma_k + sigma^2 I
    double log_normalizer;               // log w_k - (log det C_k + D log 2 pi) / 2
};

std::vector<noised_component> noised(const gaussian_mixture& m, double alpha, double sigma) {
    std::vector<noised_component> out;
    const auto d = m.dimension();
    for (std::int64_t k = 0; k < m.components(); ++k) {
        const Eigen::MatrixXd c = alpha * alpha * m.covariances()[static_cast<std::size_t>(k)] +
                                  sigma * sigma * Eigen::MatrixXd::Identity(d, d);
        Eigen::LLT<Eigen::MatrixXd> factor(c);
        const double log_det = 2.0 * factor.matrixL().toDenseMatrix().diagonal().array().log().sum();
        out.push_back({factor, std::log(m.weights()[static_cast<std::size_t>(k)]) -
                                   0.5 * (log_det + static_cast<double>(d) * log_two_pi)});
    }
    return out;
}

}  // namespace

gaussian_mixture::gaussian_mixture(std::vector<double> weights, std::vector<Eigen::VectorXd> means,
                                   std::vector<Eigen::MatrixXd> covariances)
    : weights_(std::move(weights)), means_(std::move(means)), covariances_(std::move(covariances)) {
    if (weights_.empty() || weights_.size() != means_.size() || weights_.size() != covariances_.size())
        throw config_error(fmt::format("gmm: {} weights, {} means and {} covariances; give one of each per "
                                        "component",
                                       weights_.size(), means_.size(), covariances_.size()));
    const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
    for (double& w : weights_) {
        if (!(w > 0)) throw config_error("gmm: component weights must be positive");
        w /= total;
    }
    for (std::size_t k = 0; k < means_.size(); ++k) {
        if (means_[k].size() != means_.front().size() || covariances_[k].rows() != means_[k].size() ||
            covariances_[k].cols() != means_[k].size())
            throw config_error(fmt::format("gmm: component {} has a mean or covariance of the wrong size "
                                            "(dimension {})",
                                           k, means_.front().size()));
        Eigen::LLT<Eigen::MatrixXd> factor(covariances_[k]);
        if (factor.info() != Eigen::Success)
            throw config_error(fmt::format("gmm: covariance {} is not positive definite", k));
        cholesky_.push_back(factor.matrixL());
    }
}

Eigen::VectorXd gaussian_mixture::mean() const {
    Eigen::VectorXd m = Eigen::VectorXd::Zero(dimension());
    for (std::size_t k = 0; k < weights_.size(); ++k) m += weights_[k] * means_[k];
    return m;
}

Eigen::MatrixXd gaussian_mixture::covariance() const {
    const Eigen::VectorXd m = mean();
    Eigen::MatrixXd c = Eigen::MatrixXd::Zero(dimension(), dimension());
    for (std::size_t k = 0; k < weights_.size(); ++k) {
        const Eigen::VectorXd shift = means_[k] - m;
        c += weights_[k] * (covariances_[k] + shift * shift.transpose());
    }
    return c;
}

std::int64_t gaussian_mixture::component_of(double u) const {
    std::size_t k = 0;
    for (double cumulative = weights_[0]; k + 1 < weights_.size() && u >= cumulative;) cumulative += weights_[++k];
    return static_cast<std::int64_t>(k);
}

Eigen::VectorXd gaussian_mixture::sample(std::int64_t k, const Eigen::VectorXd& z) const {
    return means_[static_cast<std::size_t>(k)] + cholesky_[static_cast<std::size_t>(k)] * z;
}

double gaussian_mixture::log_density(const Eigen::VectorXd& x, double alpha, double sigma) const {
    const auto parts = noised(*this, alpha, sigma);
    std::vector<double> terms;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        const Eigen::VectorXd r = x - alpha * means_[k];
        terms.push_back(parts[k].log_normalizer - 0.5 * r.dot(parts[k].factor.solve(r)));
    }
    const double top = *std::max_element(terms.begin(), terms.end());
    double sum = 0;
    for (double t : terms) sum += std::exp(t - top);
    return top + std::log(sum);
}

Eigen::MatrixXd gaussian_mixture::posterior_mean(const Eigen::MatrixXd& x, double alpha, double sigma) const {
    const auto parts = noised(*this, alpha, sigma);
    const auto n = x.cols();
    const auto k_count = static_cast<Eigen::Index>(parts.size());
    Eigen::MatrixXd log_r(k_count, n);
    std::vector<Eigen::MatrixXd> conditional;  // E[x0 | x, k] for every column
    for (Eigen::Index k = 0; k < k_count; ++k) {
        const auto& part = parts[static_cast<std::size_t>(k)];
        const Eigen::MatrixXd r = x.colwise() - alpha * means_[static_cast<std::size_t>(k)];
        const Eigen::MatrixXd solved = part.factor.solve(r);  // C_k^-1 (x - alpha mu_k)
        log_r.row(k) = (part.log_normalizer - 0.5 * (r.array() * solved.array()).colwise().sum()).matrix();
        conditional.push_back((alpha * covariances_[static_cast<std::size_t>(k)] * solved).colwise() +
                              means_[static_cast<std::size_t>(k)]);
    }
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.rows(), n);
    for (Eigen::Index j = 0; j < n; ++j) {
        const double top = log_r.col(j).maxCoeff();
        const Eigen::VectorXd r = (log_r.col(j).array() - top).exp().matrix();
        const double total = r.sum();
        for (Eigen::Index k = 0; k < k_count; ++k)
            out.col(j) += r(k) / total * conditional[static_cast<std::size_t>(k)].col(j);
    }
    return out;
}

}  // namespace difflab::plugins
