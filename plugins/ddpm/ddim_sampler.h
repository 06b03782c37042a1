// SPDX-License-Identifier: Apache-2.0
// The DDIM sampler and DDIM inversion.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

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
class ddim_sampler final : public grid_sampler {
public:
    struct options : grid_options {
        double eta = 0.0;
    };
    static param_spec<options> params();
    ddim_sampler(const options& opts, build_context& ctx);

    bool deterministic() const override { return opts_.eta == 0; }

    /// DDIM inversion (Song et al. 2021, section 4.3; used for editing by Mokady et al. 2023,
    /// "Null-text inversion for editing real images"): the deterministic (eta = 0) update run
    /// forwards in time, from clean data x0 to x at t_max, on sample()'s grid reversed, so that
    /// sample() with eta = 0 and the same steps and spacing maps the result back to about x0
    /// (up to the first-order error of both directions). eta is ignored here.
    /// The first step undoes sample()'s last one, the landing on clean data from the first grid
    /// time t_1 (t_min unless steps is 1): x_{t_1} = alpha x0 + sigma eps with the noise estimate
    /// of x0 itself read as x at t_1, as diffusers' DDIMInverseScheduler queries the model at the
    /// clean latents; since alpha(t_min) ~ 1 and sigma(t_min) ~ 0, x0 is close to x_{t_1}. Each
    /// later step from t to the next larger time s evaluates eps at (x_t, t) and moves by
    ///     x_s = alpha_s (x_t - sigma_t eps) / alpha_t + sigma_s eps.
    /// Evaluations: steps (one for the first step, one at each grid time below t_max).
    tensor invert(const denoiser& d, tensor x0) const;

private:
    tensor update(const grid_step& step) const override;
    options opts_;
};

}  // namespace difflab::plugins
