// SPDX-License-Identifier: Apache-2.0
// The 'process' component kind: forward noising with Gaussian marginals, and its SDE.
#pragma once

#include <difflab/plugin/component.h>

#include <cstdint>

namespace difflab {

/// A forward diffusion process with Gaussian marginals over continuous time t in [0, 1],
///     q(x_t | x_0) = N(alpha(t) x_0, sigma(t)^2 I),
/// the form shared by DDPM (Ho et al. 2020), NCSN (Song & Ermon 2019), the VP, sub-VP and VE
/// SDEs (Song et al. 2021) and EDM (Karras et al. 2022), in the notation of Kingma et al. 2021
/// ("Variational diffusion models"). These are the marginals of the linear SDE
///     dx = f(t) x dt + g(t) dw,   f = d log alpha / dt,   g^2 = d sigma^2 / dt - 2 f sigma^2,
/// so every sampler can run on every process: discrete processes (DDPM's T steps, NCSN's L
/// noise levels) put step i at t = i / T exactly and interpolate in between.
class process : public component {
public:
    static constexpr const char* kind_name = "process";
    using kind_type = process;

    virtual double alpha(double t) const = 0;
    virtual double sigma(double t) const = 0;

    /// lambda(t) = log(alpha^2 / sigma^2), strictly decreasing in t.
    virtual double log_snr(double t) const;
    /// The t in [t_min, t_max] where log_snr(t) = lambda (clamped to that interval); bisection
    /// unless a process knows the closed form.
    virtual double t_of_log_snr(double lambda) const;

    /// f(t) of the SDE: a central difference of log alpha unless overridden.
    virtual double drift(double t) const;
    /// g(t) of the SDE: from the derivatives of sigma^2 and log alpha unless overridden.
    virtual double diffusion(double t) const;

    /// Samplers integrate from t_max down to t_min (score_sde's eps; 1/T for DDPM).
    virtual double t_min() const = 0;
    virtual double t_max() const { return 1.0; }
    /// The prior p(x_T) = N(0, prior_std^2 I) for unit-variance data: sqrt(alpha^2 + sigma^2)
    /// at t_max (about 1 for VP processes, sigma_max for VE ones).
    virtual double prior_std() const;
    /// Number of discrete steps (T for DDPM, L for NCSN); 0 for a continuous process.
    virtual std::int64_t steps() const { return 0; }

    /// Training: the time for a uniform draw u in [0, 1) from the process's training
    /// distribution p(t) (uniform in [t_min, t_max] unless overridden).
    virtual double training_time(double u) const;
    /// Weight of the denoising loss ||D(x_t, t) - x_0||^2 at t, in x0 space as EDM writes it.
    /// The eps-MSE of DDPM and sigma^2-weighted score matching are both the SNR
    /// alpha^2 / sigma^2 in this form, which is the default.
    virtual double loss_weight(double t) const;
};

}  // namespace difflab
