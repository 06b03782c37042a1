// SPDX-License-Identifier: Apache-2.0
// The DDIM sampler.
#pragma once

#include <difflab/params.h>
#include <difflab/registry.h>
#include <difflab/sampler.h>

#include <cstdint>
#include <string>

namespace difflab::plugins {

/// Denoising diffusion implicit models (Song, Meng & Ermon 2021): from x_t, with x0 and eps
/// estimated at t, step to s < t by
///     x_s = alpha_s x0 + sqrt(sigma_s^2 - c^2) eps + c z,   c = eta (sigma_s / sigma_t) sigma_{t|s},
/// sigma_{t|s}^2 = sigma_t^2 - (alpha_t / alpha_s)^2 sigma_s^2 (eq. 12 and 16, written for any
/// alpha, sigma). eta = 0 is deterministic (a first-order solver of the probability-flow ODE);
/// eta = 1 is ancestral DDPM sampling with the posterior variance. The last step goes to clean
/// data (alpha = 1, sigma = 0), so `steps` is the number of denoiser evaluations.
class ddim_sampler final : public sampler {
public:
    struct options {
        std::int64_t steps = 50;
        double eta = 0.0;
        std::string spacing = "uniform";
    };
    static param_spec<options> params();
    ddim_sampler(const options& opts, build_context& ctx);

    tensor sample(const denoiser& d, tensor x, const sampling_context& ctx) const override;

private:
    options opts_;
};

}  // namespace difflab::plugins
