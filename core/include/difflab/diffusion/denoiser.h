// SPDX-License-Identifier: Apache-2.0
// The denoiser: what every sampler asks of a model, and the parametrizations that produce it.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>

namespace difflab {

/// The network parametrizations, all affine in the network output F (Karras et al. 2022,
/// Table 1): x0 = c_skip x_t + c_out F(c_in x_t, c_noise).
///   eps    F predicts the noise (Ho et al. 2020)
///   x0     F predicts the data
///   v      F predicts v = alpha eps - sigma x0 (Salimans & Ho 2022)
///   score  F predicts grad log p(x_t) (Song & Ermon 2019; Song et al. 2021)
///   edm    EDM preconditioning with sigma_data (Karras et al. 2022)
enum class prediction { eps, x0, v, score, edm };

prediction parse_prediction(const std::string& name);
const char* prediction_name(prediction kind);

/// The coefficients at one time: network input c_in x_t, time input c_noise, and
/// x0 = c_skip x_t + c_out F. For processes with alpha != 1, EDM's coefficients apply to the
/// unscaled x_t / alpha with sigma / alpha as the noise level (Karras et al. eq. 7).
struct preconditioning {
    double c_in = 1;
    double c_noise = 0;
    double c_skip = 0;
    double c_out = 1;
};

/// The coefficients of `kind` for `p` at time t. Every parametrization but EDM feeds the
/// network x_t and the continuous time t; EDM feeds c_in x_t and ln(sigma) / 4.
preconditioning precondition(prediction kind, const process& p, double t, double sigma_data = 0.5);

/// Answers E[x_0 | x_t] — and from it the noise and the score — for one process: networks
/// wrapped with a parametrization, and exact analytic denoisers (Gaussian mixtures) alike,
/// so every sampler runs on every process and can be tested with no network. Each call of
/// x0, eps or score is one evaluation (NFE), counted.
class denoiser {
public:
    explicit denoiser(const process& p) : process_(p) {}
    virtual ~denoiser() = default;
    denoiser(const denoiser&) = delete;
    denoiser& operator=(const denoiser&) = delete;

    const process& diffusion_process() const { return process_; }

    /// E[x_0 | x_t = x] at time t (x is a batch; t is shared by the batch).
    tensor x0(const tensor& x, double t) const;
    /// The noise estimate (x - alpha x0) / sigma.
    tensor eps(const tensor& x, double t) const;
    /// The score estimate (alpha x0 - x) / sigma^2 (Tweedie's formula).
    tensor score(const tensor& x, double t) const;

    /// J^T v for the Jacobian J = d x0 / d x at (x, t) and a cotangent v shaped like x0: the
    /// gradient through the denoised estimate that reconstruction guidance (Ho et al. 2022)
    /// follows. One evaluation; records its own graph even inside a sampler's no_grad_guard.
    tensor x0_vjp(const tensor& x, double t, const tensor& cotangent) const;

    /// Evaluations since construction or the last reset.
    std::int64_t evaluations() const { return evaluations_; }
    void reset_evaluations() const { evaluations_ = 0; }

protected:
    /// The model: E[x_0 | x_t = x] at time t.
    virtual tensor denoise(const tensor& x, double t) const = 0;
    /// J^T v by reverse-mode differentiation of denoise(); denoisers not written in
    /// differentiable tensor operations (exact analytic ones) override it with their closed form.
    virtual tensor denoise_vjp(const tensor& x, double t, const tensor& cotangent) const;

private:
    const process& process_;
    mutable std::int64_t evaluations_ = 0;
};

/// eps = (x - alpha x0) / sigma, from a denoised estimate.
tensor eps_from_x0(const process& p, const tensor& x, const tensor& x0, double t);
/// score = (alpha x0 - x) / sigma^2, from a denoised estimate.
tensor score_from_x0(const process& p, const tensor& x, const tensor& x0, double t);

/// The noise level of time t in sigma space, sigma(t) / alpha(t): x_t / alpha = x0 + level z
/// (Karras et al. 2022, eq. 7 write every process this way).
double noise_level(const process& p, double t);

/// D(x_hat; level) of Karras et al. 2022 and k-diffusion, on any process: the denoised
/// estimate of the unscaled variable x_hat = x / alpha at noise level `level` = sigma / alpha,
/// evaluated at the time with that level (one evaluation). Samplers written in sigma space
/// (EDM's Heun, k-diffusion's Euler ancestral) step on x_hat with dx_hat/dlevel =
/// (x_hat - D) / level and map back by x = alpha x_hat.
tensor denoise_at_level(const denoiser& d, const tensor& x_hat, double level);

}  // namespace difflab
