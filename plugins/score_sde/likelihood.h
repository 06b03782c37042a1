// SPDX-License-Identifier: Apache-2.0
// Negative log-likelihood in bits/dim through the probability-flow ODE (Song et al. 2021).
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

struct likelihood_options {
    /// Hutchinson probe distribution: "rademacher" (entries +-1, the lower-variance choice)
    /// or "gaussian" (N(0, 1) entries).
    std::string probe = "rademacher";
    /// Probes K per sample; the divergence integral is the mean of K estimates, each
    /// integrated along the same trajectory.
    std::int64_t probes = 1;
    double rtol = 1e-5;  ///< Dormand-Prince tolerances (score_sde's likelihood defaults)
    double atol = 1e-5;
    /// x holds 8-bit data as 2 k / 255 - 1: evaluate at (k + u) / 128 - 1 with u uniform in
    /// [0, 1) and add 7 bits/dim, giving an upper bound on the discrete NLL (see dequantize_8bit).
    bool dequantize = false;
    /// How z^T (dv/dx) z is computed: "autograd" (one vector-Jacobian product per probe;
    /// throws when the denoiser output does not depend differentiably on x or recording is
    /// off), "finite_difference" (central difference of v along z: 2 K more evaluations per
    /// right-hand side), or "auto" (autograd when possible, else the finite difference).
    std::string divergence = "auto";
    /// Samples integrated together: 1 gives each its own step sizes and error norm, so a
    /// sample's result does not depend on the others; B > 1 integrates B rows as one state with
    /// one error norm, as score_sde does (its solve_ivp on the flattened batch), which feeds the
    /// denoiser batches of B, several times faster per sample, at the price that a sample's
    /// result moves with its batch companions within the tolerances.
    std::int64_t batch_size = 1;
    std::uint64_t seed = 0;         ///< key of the probe and dequantization noise
    std::uint64_t first_index = 0;  ///< index of the first sample of x in the seeded stream
};

struct likelihood_result {
    /// Per sample: the negative log-likelihood in bits per dimension (of the 8-bit data with
    /// dequantize, else of the continuous density at t_min).
    std::vector<double> bits_per_dim;
    /// Per sample: the sample variance (K - 1 denominator, nats^2) of the K probes' integrated
    /// divergence estimates; the variance of their mean is this / K. 0 when K = 1.
    std::vector<double> estimator_variance;
    /// Denoiser evaluations spent (forward passes; the backward passes are not counted).
    std::int64_t evaluations = 0;
};

/// Bits added to the dequantized density's NLL for 8-bit data in [-1, 1]: a bin is 2 / 256 =
/// 1 / 128 wide per dimension, so -log2 P(k) <= E_u[-log2 p((k + u) / 128 - 1)] + log2(128)
/// per dimension (Jensen's inequality over the uniform u; Theis et al. 2016, "A note on the
/// evaluation of generative models"). score_sde writes it as offset = 7 - inverse_scaler(-1).
constexpr double dequantization_offset_bits = 7.0;

/// Uniform dequantization of 8-bit data stored as x = 2 k / 255 - 1 (k in 0..255, found by
/// rounding): (k + u) / 128 - 1 with u uniform in [0, 1) from the Philox stream (seed,
/// "likelihood/dequantize", first_index + row), the [-1, 1] form of score_sde's (k + u) / 256.
/// Throws difflab::error for values outside [-1, 1] by more than half a level.
tensor dequantize_8bit(const tensor& x, std::uint64_t seed, std::uint64_t first_index);

/// The negative log-likelihood of each sample (row along dim 0) of x under the model given by
/// the denoiser's probability-flow ODE (Song et al. 2021, "Score-based generative modeling
/// through stochastic differential equations", sec. 4.3 and appendix D.2):
///     dx/dt = v(x, t) = f(t) x - g(t)^2 / 2 score(x, t),   d delta/dt = div v(x, t),
/// integrated from (x, 0) at t_min up to t_max, so that log p_{t_min}(x) = log p_T(x_T) + delta
/// with the prior p_T = N(0, prior_std^2 I), and NLL = -(log p_T(x_T) + delta), in bits/dim
/// NLL / (D ln 2) with D the values per sample. The divergence is Hutchinson's estimate
/// z^T (dv/dx) z (Hutchinson 1989; Grathwohl et al. 2019, FFJORD) with K probes drawn once per
/// sample before integration from the stream (seed, "likelihood/probe", first_index + row,
/// probe index). With batch_size 1 each sample is integrated alone with dormand_prince (its own
/// step sizes and error norm over x and the K integrals), so a sample's result does not depend
/// on the batch; larger batch_size integrates that many rows jointly (see likelihood_options).
///
/// The finite-difference divergence uses v(x +- h z) with h = cbrt(f32 epsilon) * max(1,
/// rms(x)) (about 5e-3 for data in [-1, 1]): the step that balances the O(h^2) truncation
/// against f32 rounding of v, relative to the size of x so that it stays above the rounding of
/// x + h z. Evaluations per right-hand side: 1 with autograd, 1 + 2 K with finite differences;
/// dormand_prince spends 2 + 6 per step attempted.
///
/// Note x is taken as a sample at t_min (score_sde's eps), not t = 0; the prior differs from the
/// true marginal at t_max by e^{-B(1)} of the data variance on VP (~4e-5 with beta_max = 20) and
/// by the data variance over sigma_max^2 on VE: both small biases.
likelihood_result negative_log_likelihood(const denoiser& d, const tensor& x, const likelihood_options& options = {});

}  // namespace difflab::plugins
