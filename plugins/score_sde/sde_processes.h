// SPDX-License-Identifier: Apache-2.0
// The VP, sub-VP and VE SDEs of "Score-based generative modeling through stochastic
// differential equations" (Song et al. 2021), as continuous-time processes.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

namespace difflab::plugins {

/// Options shared by the VP and sub-VP SDEs: beta(t) = beta_min + t (beta_max - beta_min).
struct linear_beta_options {
    double beta_min = 0.1;
    double beta_max = 20.0;
    double eps = 1e-3;           ///< smallest sampling time (score_sde's sampling_eps)
    double training_eps = 1e-5;  ///< smallest training time
};

/// Variance-preserving SDE, the continuous limit of DDPM (Song et al. 2021, eq. 11):
/// dx = -beta(t)/2 x dt + sqrt(beta(t)) dw, alpha(t) = exp(-B(t)/2), B(t) = int_0^t beta,
/// sigma^2 = 1 - alpha^2.
class vp_sde final : public process {
public:
    using options = linear_beta_options;
    static param_spec<options> params();
    vp_sde(const options& opts, build_context& ctx);

    double alpha(double t) const override;
    double sigma(double t) const override;
    /// Closed form (Lu et al. 2022, DPM-Solver, appendix): solve B(t) = log(1 + e^-lambda).
    double t_of_log_snr(double lambda) const override;
    double drift(double t) const override;
    double diffusion(double t) const override;
    double t_min() const override { return opts_.eps; }
    double training_time(double u) const override;

    /// B(t) = int_0^t beta(s) ds.
    double integrated_beta(double t) const;
    double beta(double t) const;

private:
    options opts_;
};

/// Sub-variance-preserving SDE (Song et al. 2021, eq. 12): the VP drift with
/// g^2 = beta(t) (1 - e^{-2 B(t)}), so sigma^2 = (1 - e^{-B(t)})^2 stays below the VP variance.
class subvp_sde final : public process {
public:
    using options = linear_beta_options;
    static param_spec<options> params();
    subvp_sde(const options& opts, build_context& ctx);

    double alpha(double t) const override;
    double sigma(double t) const override;
    double drift(double t) const override;
    double diffusion(double t) const override;
    double t_min() const override { return opts_.eps; }
    double training_time(double u) const override;

private:
    options opts_;
    vp_sde vp_;  // shares alpha(t) and B(t)
};

/// Variance-exploding SDE, the continuous limit of NCSN (Song et al. 2021, eq. 9):
/// dx = sigma(t) sqrt(2 log(sigma_max / sigma_min)) dw, sigma(t) = sigma_min (sigma_max / sigma_min)^t.
class ve_sde final : public process {
public:
    struct options {
        double sigma_min = 0.01;
        double sigma_max = 50.0;
        double eps = 1e-5;  ///< smallest sampling and training time (score_sde's VE default)
    };
    static param_spec<options> params();
    ve_sde(const options& opts, build_context& ctx);

    double alpha(double) const override { return 1.0; }
    double sigma(double t) const override;
    double t_of_log_snr(double lambda) const override;
    double drift(double) const override { return 0.0; }
    double diffusion(double t) const override;
    double t_min() const override { return opts_.eps; }

private:
    options opts_;
};

}  // namespace difflab::plugins
