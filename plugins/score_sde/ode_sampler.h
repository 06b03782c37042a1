// SPDX-License-Identifier: Apache-2.0
// Fixed-step solvers of the probability-flow ODE.
#pragma once

#include <difflab/params.h>
#include <difflab/registry.h>
#include <difflab/sampler.h>

#include <cstdint>
#include <string>

namespace difflab::plugins {

/// Integrates the probability-flow ODE of Song et al. 2021 (eq. 13),
///     dx/dt = f(t) x - g(t)^2 / 2 * score(x, t),
/// the deterministic process with the same marginals as the SDE, from t_max to t_min with
/// Euler (first order), Heun (second) or classical Runge-Kutta (fourth), then steps to clean
/// data with the denoised estimate at t_min. Evaluations: Euler `steps`, Heun 2 steps - 1,
/// RK4 4 steps - 3.
class ode_sampler final : public sampler {
public:
    struct options {
        std::string method = "heun";
        std::int64_t steps = 50;
        std::string spacing = "uniform";
    };
    static param_spec<options> params();
    ode_sampler(const options& opts, build_context& ctx);

    tensor sample(const denoiser& d, tensor x, const sampling_context& ctx) const override;

private:
    options opts_;
};

}  // namespace difflab::plugins
