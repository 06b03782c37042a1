// SPDX-License-Identifier: Apache-2.0
// Gaussian mixtures: data whose every noised marginal and posterior mean is known in closed form.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace difflab::plugins {

/// p(x0) = sum_k w_k N(mu_k, Sigma_k) in D dimensions. Under x_t = alpha x0 + sigma eps every
/// marginal is again a mixture, p_t(x) = sum_k w_k N(alpha mu_k, C_k) with
/// C_k = alpha^2 Sigma_k + sigma^2 I, and the posterior mean is
///     E[x0 | x_t] = sum_k r_k(x) (mu_k + alpha Sigma_k C_k^-1 (x - alpha mu_k)),
/// r_k the component responsibilities: the exact denoiser, which makes every sampler testable
/// without a network (the oracle that diffusers, k-diffusion and score_sde do not ship).
class gaussian_mixture {
public:
    gaussian_mixture(std::vector<double> weights, std::vector<Eigen::VectorXd> means,
                     std::vector<Eigen::MatrixXd> covariances);

    std::int64_t dimension() const { return static_cast<std::int64_t>(means_.front().size()); }
    std::int64_t components() const { return static_cast<std::int64_t>(weights_.size()); }
    const std::vector<double>& weights() const { return weights_; }
    const std::vector<Eigen::VectorXd>& means() const { return means_; }
    const std::vector<Eigen::MatrixXd>& covariances() const { return covariances_; }

    /// Mean and covariance of the whole mixture.
    Eigen::VectorXd mean() const;
    Eigen::MatrixXd covariance() const;

    /// The component a uniform draw u in [0, 1) selects (by the cumulative weights).
    std::int64_t component_of(double u) const;
    /// A sample of component k from standard normals z: mu_k + L_k z.
    Eigen::VectorXd sample(std::int64_t k, const Eigen::VectorXd& z) const;
    /// n exact samples as rows (n x D): row i from the Philox stream (seed, purpose, first + i),
    /// one uniform for the component, then D normals from the stream's next block.
    Eigen::MatrixXd draw(std::int64_t n, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first = 0) const;

    /// log p_t(x) under x_t = alpha x0 + sigma eps.
    double log_density(const Eigen::VectorXd& x, double alpha, double sigma) const;
    /// E[x0 | x_t = x] for each column of `x` (D x N).
    Eigen::MatrixXd posterior_mean(const Eigen::MatrixXd& x, double alpha, double sigma) const;
    /// Cov[x0 | x_t = x_j] v_j for each column j of `x` and `v` (D x N): with m_k the
    /// component posterior means and P_k = Sigma_k - alpha^2 Sigma_k C_k^-1 Sigma_k their
    /// covariances, Cov = sum_k r_k (P_k + m_k m_k^T) - m m^T. The denoiser's Jacobian is
    /// d E[x0 | x_t] / d x_t = (alpha / sigma^2) Cov[x0 | x_t] (Tweedie's formula differentiated).
    Eigen::MatrixXd posterior_covariance_times(const Eigen::MatrixXd& x, const Eigen::MatrixXd& v, double alpha,
                                               double sigma) const;
    /// grad_x log p(k_j | x_t = x_j) for each column j, the component k_j = components[j]
    /// taken as the class: s_k(x) - sum_i r_i s_i(x) with s_i(x) = -C_i^-1 (x - alpha mu_i), the
    /// exact classifier gradient of classifier guidance.
    Eigen::MatrixXd class_log_likelihood_gradient(const Eigen::MatrixXd& x, const std::vector<std::int64_t>& classes,
                                                  double alpha, double sigma) const;

    /// The mixture of component k alone: p(x0 | class k).
    gaussian_mixture component(std::int64_t k) const;
    /// The law of A x0: the same weights, means A mu_k, covariances A Sigma_k A^T, for an
    /// invertible D x D matrix A (such as the V^T of a measurement's SVD, which turns a linear
    /// measurement into observed coordinates).
    gaussian_mixture transformed(const Eigen::MatrixXd& a) const;
    /// p(x0[missing] | x0[observed] = values): again a Gaussian mixture, over the coordinates
    /// not in `observed` (in increasing order), with weights w_k N(values; mu_k,o, Sigma_k,oo)
    /// and components N(mu_k,m + Sigma_k,mo Sigma_k,oo^-1 (values - mu_k,o),
    /// Sigma_k,mm - Sigma_k,mo Sigma_k,oo^-1 Sigma_k,om): the exact answer of inpainting.
    /// Components whose weight is below 1e-300 of the largest are left out.
    gaussian_mixture conditioned(const std::vector<std::int64_t>& observed, const Eigen::VectorXd& values) const;

private:
    std::vector<double> weights_;
    std::vector<Eigen::VectorXd> means_;
    std::vector<Eigen::MatrixXd> covariances_;
    std::vector<Eigen::MatrixXd> cholesky_;  // of each Sigma_k, for sampling
};

}  // namespace difflab::plugins
