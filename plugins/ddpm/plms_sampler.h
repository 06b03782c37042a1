// SPDX-License-Identifier: Apache-2.0
// The PLMS / PNDM sampler.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Pseudo numerical methods for diffusion models (Liu, Ren, Lin & Zhao 2022, "Pseudo numerical
/// methods for diffusion models on manifolds", PNDM). Every step moves with the transfer part
///     phi(x_t, e, t -> s) = alpha_s (x_t - sigma_t e) / alpha_t + sigma_s e,
/// the DDIM (eta = 0) step written on a noise estimate e, and spends the gradient part on e:
/// the pseudo linear multistep method (PLMS) feeds phi the fourth-order Adams-Bashforth
/// combination (55 e_t - 59 e_{t-1} + 37 e_{t-2} - 9 e_{t-3}) / 24 of the noise estimates at the
/// last four grid points, one evaluation per step. It needs three earlier estimates to start:
///   multistep  (the default; S-PNDM-like, as diffusers' skip_prk_steps) Adams-Bashforth of
///              orders 1, 2, 3 on the history there is;
///   prk        (F-PNDM) the first three steps (after the start, and again after a jump or an
///              edit of the state) are pseudo Runge-Kutta (PRK): classic RK4's
///              four noise estimates at t, the midpoint twice and s, each through phi from x_t.
/// The weights are those of equal steps (in t on the uniform grid, in sqrt(t - t_min) on the
/// quadratic one), as in the paper. They average e uniformly over a step while the transfer part
/// needs its average weighted by d(sigma / alpha); the two differ by O(h^2), so the method is
/// second order (measured with the exact Gaussian denoiser), one order above DDIM, with
/// one evaluation per step after the warm-up. The prk warm-up diverges where alpha(t_max) is almost 0 (the cosine DDPM
/// schedule, alpha(1) ~ 5e-5): its stages average e over a first step where sigma / alpha falls by orders of magnitude;
/// the multistep warm-up starts with a DDIM step and is stable there. After the last grid time the sampler returns the
/// denoised estimate there, from the evaluation the multistep history needed anyway. Evaluations: steps, plus 3 for
/// each pseudo Runge-Kutta step (min(3, steps - 1) of them).
class plms_sampler final : public sampler {
public:
    struct options : grid_options {
        std::string warmup = "multistep";
    };
    static param_spec<options> params();
    plms_sampler(const options& opts, build_context& ctx);

    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process& p) const override;
    bool deterministic() const override { return true; }

private:
    /// Steps that use pseudo Runge-Kutta (0 with the multistep warm-up).
    std::int64_t prk_steps() const;

    options opts_;
};

}  // namespace difflab::plugins
