// SPDX-License-Identifier: Apache-2.0
// The EDM noise process and its training distribution.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

namespace difflab::plugins {

/// "Elucidating the design space of diffusion-based generative models" (Karras et al. 2022):
/// x = x_0 + sigma noise (alpha = 1) with sigma from sigma_min to sigma_max. Time is the
/// paper's rho-warped sigma, sigma(t) = (sigma_min^(1/rho) + t (sigma_max^(1/rho) -
/// sigma_min^(1/rho)))^rho, so a uniform grid in t is EDM's time discretization (eq. 5).
/// Training draws ln sigma ~ N(P_mean, P_std^2) and weights the x0 loss by
/// (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 (Table 1).
class edm_process final : public process {
public:
    struct options {
        double sigma_min = 0.002;
        double sigma_max = 80.0;
        double rho = 7.0;
        double sigma_data = 0.5;
        double p_mean = -1.2;
        double p_std = 1.2;
    };
    static param_spec<options> params();
    edm_process(const options& opts, build_context& ctx);

    double alpha(double) const override { return 1.0; }
    double sigma(double t) const override;
    double t_of_log_snr(double lambda) const override;
    double drift(double) const override { return 0.0; }
    double diffusion(double t) const override;
    double t_min() const override { return 0.0; }
    /// sigma = exp(p_mean + p_std * Phi^-1(u)), as t; sigmas beyond [sigma_min, sigma_max]
    /// (probability about 2e-5 with the defaults) are clamped to them.
    double training_time(double u) const override;
    double loss_weight(double t) const override;

    /// The t of a noise level.
    double t_of_sigma(double sigma) const;
    double sigma_data() const { return opts_.sigma_data; }

private:
    options opts_;
    double root_min_, root_max_;  // sigma_min^(1/rho), sigma_max^(1/rho)
};

}  // namespace difflab::plugins
