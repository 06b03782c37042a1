// SPDX-License-Identifier: Apache-2.0
// The exact denoiser of Gaussian-mixture data, for every process and time.
#pragma once

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

private:
    const gaussian_mixture& mixture_;
};

}  // namespace difflab::plugins
