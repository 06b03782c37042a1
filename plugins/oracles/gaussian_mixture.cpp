// SPDX-License-Identifier: Apache-2.0
// Gaussian mixtures: sampling, noised densities and exact posterior means.
#include "gaussian_mixture.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
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
        throw config_error(
            fmt::format("gmm: {} weights, {} means and {} covariances; give one of each per "
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
            throw config_error(
                fmt::format("gmm: component {} has a mean or covariance of the wrong size "
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

Eigen::MatrixXd gaussian_mixture::draw(std::int64_t n, std::uint64_t seed, std::uint64_t purpose,
                                       std::uint64_t first) const {
    const std::int64_t d = dimension();
    Eigen::MatrixXd out(n, d);
    std::vector<float> z(static_cast<std::size_t>(d));
    for (std::int64_t i = 0; i < n; ++i) {
        philox_stream stream(seed, purpose, first + static_cast<std::uint64_t>(i));
        float u = 0;
        stream.uniform(&u, 1);
        // The normals start at the next Philox block: Box-Muller reads a whole block, so normals
        // from the block u came from would share its bits and lean on the component chosen.
        stream.skip(3);
        stream.normal(z.data(), z.size());
        out.row(i) = sample(component_of(u), Eigen::Map<Eigen::VectorXf>(z.data(), d).cast<double>()).transpose();
    }
    return out;
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

namespace {

/// What the posterior over components gives for each column of x: the normalized
/// responsibilities r (K x N), C_k^-1 (x - alpha mu_k) and E[x0 | x, k] for every k.
struct component_posteriors {
    Eigen::MatrixXd responsibilities;
    std::vector<Eigen::MatrixXd> solved;
    std::vector<Eigen::MatrixXd> means;
};

component_posteriors posteriors(const gaussian_mixture& m, const Eigen::MatrixXd& x, double alpha, double sigma) {
    const auto parts = noised(m, alpha, sigma);
    const auto n = x.cols();
    const auto k_count = static_cast<Eigen::Index>(parts.size());
    component_posteriors out;
    Eigen::MatrixXd log_r(k_count, n);
    for (Eigen::Index k = 0; k < k_count; ++k) {
        const auto index = static_cast<std::size_t>(k);
        const Eigen::MatrixXd r = x.colwise() - alpha * m.means()[index];
        out.solved.push_back(parts[index].factor.solve(r));
        log_r.row(k) =
            (parts[index].log_normalizer - 0.5 * (r.array() * out.solved.back().array()).colwise().sum()).matrix();
        out.means.push_back((alpha * m.covariances()[index] * out.solved.back()).colwise() + m.means()[index]);
    }
    out.responsibilities.resize(k_count, n);
    for (Eigen::Index j = 0; j < n; ++j) {
        const double top = log_r.col(j).maxCoeff();
        const Eigen::VectorXd r = (log_r.col(j).array() - top).exp().matrix();
        out.responsibilities.col(j) = r / r.sum();
    }
    return out;
}

}  // namespace

Eigen::MatrixXd gaussian_mixture::posterior_mean(const Eigen::MatrixXd& x, double alpha, double sigma) const {
    const component_posteriors post = posteriors(*this, x, alpha, sigma);
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.rows(), x.cols());
    for (Eigen::Index j = 0; j < x.cols(); ++j)
        for (std::size_t k = 0; k < post.means.size(); ++k)
            out.col(j) += post.responsibilities(static_cast<Eigen::Index>(k), j) * post.means[k].col(j);
    return out;
}

Eigen::MatrixXd gaussian_mixture::posterior_covariance_times(const Eigen::MatrixXd& x, const Eigen::MatrixXd& v,
                                                             double alpha, double sigma) const {
    const component_posteriors post = posteriors(*this, x, alpha, sigma);
    const auto parts = noised(*this, alpha, sigma);
    Eigen::MatrixXd out = Eigen::MatrixXd::Zero(x.rows(), x.cols());
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        Eigen::VectorXd mean = Eigen::VectorXd::Zero(x.rows());
        for (std::size_t k = 0; k < post.means.size(); ++k) {
            const double r = post.responsibilities(static_cast<Eigen::Index>(k), j);
            const Eigen::MatrixXd& sigma_k = covariances_[k];
            const Eigen::VectorXd m_k = post.means[k].col(j);
            // P_k v = Sigma_k v - alpha^2 Sigma_k C_k^-1 Sigma_k v
            const Eigen::VectorXd sv = sigma_k * v.col(j);
            const Eigen::VectorXd pv = sv - alpha * alpha * sigma_k * parts[k].factor.solve(sv);
            out.col(j) += r * (pv + m_k * m_k.dot(v.col(j)));
            mean += r * m_k;
        }
        out.col(j) -= mean * mean.dot(v.col(j));
    }
    return out;
}

Eigen::MatrixXd gaussian_mixture::class_log_likelihood_gradient(const Eigen::MatrixXd& x,
                                                                const std::vector<std::int64_t>& classes, double alpha,
                                                                double sigma) const {
    if (static_cast<Eigen::Index>(classes.size()) != x.cols())
        throw error(fmt::format("gmm: {} classes for {} points", classes.size(), x.cols()));
    const component_posteriors post = posteriors(*this, x, alpha, sigma);
    Eigen::MatrixXd out(x.rows(), x.cols());
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const auto chosen = classes[static_cast<std::size_t>(j)];
        if (chosen < 0 || chosen >= components())
            throw error(fmt::format("gmm: class {} of a mixture of {} components", chosen, components()));
        // s_k = -C_k^-1 (x - alpha mu_k) = -solved_k
        Eigen::VectorXd mixture_score = Eigen::VectorXd::Zero(x.rows());
        for (std::size_t k = 0; k < post.solved.size(); ++k)
            mixture_score -= post.responsibilities(static_cast<Eigen::Index>(k), j) * post.solved[k].col(j);
        out.col(j) = -post.solved[static_cast<std::size_t>(chosen)].col(j) - mixture_score;
    }
    return out;
}

gaussian_mixture gaussian_mixture::component(std::int64_t k) const {
    const auto index = static_cast<std::size_t>(k);
    return gaussian_mixture({1.0}, {means_.at(index)}, {covariances_.at(index)});
}

gaussian_mixture gaussian_mixture::transformed(const Eigen::MatrixXd& a) const {
    if (a.rows() != dimension() || a.cols() != dimension())
        throw error(fmt::format("gmm: a {}x{} transform of a {}-dimensional mixture", a.rows(), a.cols(), dimension()));
    std::vector<Eigen::VectorXd> means;
    std::vector<Eigen::MatrixXd> covariances;
    for (std::size_t k = 0; k < weights_.size(); ++k) {
        means.push_back(a * means_[k]);
        const Eigen::MatrixXd c = a * covariances_[k] * a.transpose();
        covariances.push_back((c + c.transpose()) / 2);  // symmetric to the last bit, for the Cholesky factor
    }
    return gaussian_mixture(weights_, std::move(means), std::move(covariances));
}

gaussian_mixture gaussian_mixture::conditioned(const std::vector<std::int64_t>& observed,
                                               const Eigen::VectorXd& values) const {
    const std::int64_t d = dimension();
    std::vector<bool> seen(static_cast<std::size_t>(d), false);
    for (std::int64_t i : observed) {
        if (i < 0 || i >= d || seen[static_cast<std::size_t>(i)])
            throw config_error(
                fmt::format("gmm: observed coordinate {} is out of range or repeated (dimension {})", i, d));
        seen[static_cast<std::size_t>(i)] = true;
    }
    std::vector<std::int64_t> missing;
    for (std::int64_t i = 0; i < d; ++i)
        if (!seen[static_cast<std::size_t>(i)]) missing.push_back(i);
    if (missing.empty() || observed.size() != static_cast<std::size_t>(values.size()))
        throw config_error("gmm: conditioning needs some coordinates missing and one value per observed one");
    const auto pick = [](const Eigen::MatrixXd& m, const std::vector<std::int64_t>& rows,
                         const std::vector<std::int64_t>& cols) {
        Eigen::MatrixXd out(rows.size(), cols.size());
        for (std::size_t r = 0; r < rows.size(); ++r)
            for (std::size_t c = 0; c < cols.size(); ++c)
                out(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = m(rows[r], cols[c]);
        return out;
    };
    const auto pick_vector = [](const Eigen::VectorXd& v, const std::vector<std::int64_t>& rows) {
        Eigen::VectorXd out(rows.size());
        for (std::size_t r = 0; r < rows.size(); ++r) out(static_cast<Eigen::Index>(r)) = v(rows[r]);
        return out;
    };
    std::vector<double> log_weights, weights;
    std::vector<Eigen::VectorXd> means;
    std::vector<Eigen::MatrixXd> covariances;
    for (std::size_t k = 0; k < weights_.size(); ++k) {
        const Eigen::MatrixXd s_oo = pick(covariances_[k], observed, observed);
        const Eigen::MatrixXd s_mo = pick(covariances_[k], missing, observed);
        const Eigen::LLT<Eigen::MatrixXd> factor(s_oo);
        const Eigen::VectorXd r = values - pick_vector(means_[k], observed);
        const double log_det = 2.0 * factor.matrixL().toDenseMatrix().diagonal().array().log().sum();
        log_weights.push_back(std::log(weights_[k]) - 0.5 * (log_det + r.dot(factor.solve(r))));
        means.push_back(pick_vector(means_[k], missing) + s_mo * factor.solve(r));
        covariances.push_back(pick(covariances_[k], missing, missing) -
                              s_mo * factor.solve(Eigen::MatrixXd(s_mo.transpose())));
    }
    // Components the observation rules out (relative weight below 1e-300) are dropped, not kept
    // at a weight of zero, which a mixture refuses.
    const double top = *std::max_element(log_weights.begin(), log_weights.end());
    std::vector<Eigen::VectorXd> kept_means;
    std::vector<Eigen::MatrixXd> kept_covariances;
    for (std::size_t k = 0; k < log_weights.size(); ++k) {
        if (log_weights[k] - top < std::log(1e-300)) continue;
        weights.push_back(std::exp(log_weights[k] - top));
        kept_means.push_back(std::move(means[k]));
        kept_covariances.push_back(std::move(covariances[k]));
    }
    return gaussian_mixture(std::move(weights), std::move(kept_means), std::move(kept_covariances));
}

}  // namespace difflab::plugins
