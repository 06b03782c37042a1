// SPDX-License-Identifier: Apache-2.0
// The exact denoiser of Gaussian-mixture data, for every process and time.
#pragma once

#include <difflab/diffusion/classifier_guidance.h>
#include <difflab/diffusion/denoiser.h>

#include "gaussian_mixture.h"

namespace difflab::plugins {

/// E[x0 | x_t] of a Gaussian mixture under any process (gaussian_mixture::posterior_mean):
/// samplers driven by it can be checked against exact answers, with no network.
class exact_gmm_denoiser final : public denoiser {
public:
    exact_gmm_denoiser(const process& p, const gaussian_mixture& mixture) : denoiser(p), mixture_(mixture) {}

protected:
    tensor denoise(const tensor& x, double t) const override;
    /// J^T v = (alpha / sigma^2) Cov[x0 | x_t] v in closed form (J is symmetric).
    tensor denoise_vjp(const tensor& x, double t, const tensor& cotangent) const override;

private:
    const gaussian_mixture& mixture_;
};

/// The exact class posterior of a Gaussian mixture whose components are the classes:
/// grad_x log p(k | x_t) in closed form (gaussian_mixture::class_log_likelihood_gradient), the
/// classifier with which classifier guidance at scale 1 samples p(x0 | k) exactly.
class gmm_class_posterior final : public class_log_likelihood {
public:
    gmm_class_posterior(const process& p, const gaussian_mixture& mixture) : process_(p), mixture_(mixture) {}
    /// One label per sample, or a single label for every sample of any batch (samplers that
    /// integrate row by row, such as rk45, hand the denoiser batches of one).
    tensor gradient(const tensor& x, double t, const tensor& labels) const override;

private:
    const process& process_;
    const gaussian_mixture& mixture_;
};

}  // namespace difflab::plugins
