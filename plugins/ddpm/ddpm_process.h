// SPDX-License-Identifier: Apache-2.0
// The discrete DDPM forward process with its beta schedules.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Denoising diffusion probabilistic models (Ho et al. 2020): T steps with variances beta_i,
/// alpha_bar_i = prod_{j <= i} (1 - beta_j), x_i = sqrt(alpha_bar_i) x_0 + sqrt(1 - alpha_bar_i) eps.
/// Schedules: linear (Ho et al.: 1e-4 to 0.02 over T = 1000), cosine (Nichol & Dhariwal 2021,
/// offset s = 0.008, betas clipped at 0.999), quadratic and sigmoid (as in diffusers). Step i
/// sits at t = i / T exactly; between steps log alpha is interpolated linearly in t, as
/// DPM-Solver's discrete-time schedule does, so continuous-time samplers apply unchanged.
class ddpm_process final : public process {
public:
    struct options {
        std::int64_t steps = 1000;
        std::string schedule = "linear";
        double beta_start = 1e-4;
        double beta_end = 0.02;
        double cosine_s = 0.008;
        std::string variance = "fixed_small";
    };
    static param_spec<options> params();

    ddpm_process(const options& opts, build_context& ctx);

    double alpha(double t) const override;
    double sigma(double t) const override;
    double t_min() const override { return 1.0 / static_cast<double>(opts_.steps); }
    std::int64_t steps() const override { return opts_.steps; }
    /// A step drawn uniformly from 1..T, as t = i / T.
    double training_time(double u) const override;

    /// beta_i for i = 1..T (index i - 1).
    const std::vector<double>& betas() const { return betas_; }
    /// alpha_bar_i for i = 1..T (index i - 1).
    const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }
    /// Variance of the reverse step i -> i - 1: the posterior's beta_tilde_i ("fixed_small") or
    /// beta_i ("fixed_large"), Ho et al. section 3.2.
    double reverse_variance(std::int64_t i) const;

private:
    /// log alpha(t), linear between the grid points t = i / T (and 0 at t = 0).
    double log_alpha(double t) const;

    options opts_;
    std::vector<double> betas_;
    std::vector<double> alphas_cumprod_;
};

}  // namespace difflab::plugins
