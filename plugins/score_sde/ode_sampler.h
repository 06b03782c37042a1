// SPDX-License-Identifier: Apache-2.0
// Solvers of the probability-flow ODE: fixed-step Euler, Heun, RK4 and adaptive RK45.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <string>

namespace difflab::plugins {

/// dx/dt of the probability-flow ODE (Song et al. 2021, eq. 13) at (x, t),
///     f(t) x - g(t)^2 / 2 * score(x, t),
/// from one denoiser evaluation; differentiable in x when recording is on and the denoiser is.
tensor probability_flow(const denoiser& d, const tensor& x, double t);
/// The same velocity from a denoised estimate x0 = E[x_0 | x_t = x] already at hand.
tensor probability_flow(const process& p, const tensor& x, const tensor& x0, double t);

/// Integrates the probability-flow ODE of Song et al. 2021 ("Score-based generative modeling
/// through stochastic differential equations", eq. 13),
///     dx/dt = f(t) x - g(t)^2 / 2 * score(x, t),
/// the deterministic process with the same marginals as the SDE, from t_max to t_min with
/// Euler (first order), Heun (second), classical Runge-Kutta (fourth) on the `steps`-point time
/// grid, or adaptive Dormand-Prince 5(4) (`rk45`, as score_sde's scipy solve_ivp RK45 with
/// rtol = atol = 1e-5; see dormand_prince.h), then steps to clean data with the denoised
/// estimate at t_min.
///
/// Evaluations: Euler `steps`, Heun 2 steps - 1, RK4 4 steps - 3. RK45 ignores `steps` and
/// `spacing` and spends per sample 2 + 6 per attempted step + 1 (the final denoised estimate),
/// not known beforehand. To keep samples independent of the batch (the same seed gives the same
/// sample whatever the batch size), RK45 integrates every sample (row along dim 0) on its own
/// adaptive step sequence, with its own error norm, feeding the denoiser batches of one: the
/// price is N times as many, N times smaller denoiser calls, and the evaluation count is the sum
/// over the rows (divide by the batch size for evaluations per sample). score_sde instead takes
/// one error norm over the whole batch, which makes each sample depend on the others.
class ode_sampler final : public sampler {
public:
    struct options : grid_options {
        std::string method = "heun";
        double rtol = 1e-5;  ///< rk45 only
        double atol = 1e-5;  ///< rk45 only
    };
    static param_spec<options> params();
    ode_sampler(const options& opts, build_context& ctx);

    /// rk45 integrates each sample on its own steps; the other methods follow paths.
    tensor sample(const denoiser& d, tensor x, const sampling_context& ctx) const override;
    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    bool follows_paths() const override { return opts_.method != "rk45"; }
    /// Euler `steps`, Heun 2 steps - 1, RK4 4 steps - 3; 0 (unknown beforehand) for RK45.
    std::int64_t evaluations(const process& p) const override;
    /// Every method is deterministic: the sample is a function of x_T alone.
    bool deterministic() const override { return true; }

private:
    options opts_;
};

}  // namespace difflab::plugins
