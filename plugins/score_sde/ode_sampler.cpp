// SPDX-License-Identifier: Apache-2.0
// Fixed-step solvers of the probability-flow ODE (Song et al. 2021).
#include "ode_sampler.h"

#include <difflab/autograd.h>
#include <difflab/ops.h>

namespace difflab::plugins {

namespace {

/// dx/dt of the probability-flow ODE at (x, t): one denoiser evaluation.
tensor velocity(const denoiser& d, const tensor& x, double t) {
    const process& p = d.diffusion_process();
    const double g = p.diffusion(t);
    return x * static_cast<float>(p.drift(t)) - score_from_x0(p, x, d.x0(x, t), t) * static_cast<float>(0.5 * g * g);
}

}  // namespace

param_spec<ode_sampler::options> ode_sampler::params() {
    param_spec<options> spec{"Probability-flow ODE solver (Song et al. 2021): Euler, Heun or RK4."};
    spec.add(&options::method, "method", "Solver: euler (1st order), heun (2nd), rk4 (4th).",
             one_of({"euler", "heun", "rk4"}));
    spec.add(&options::steps, "steps", "Number of time points (solver steps + 1).", at_least<std::int64_t>(1));
    spec.add(&options::spacing, "spacing", "Time grid.", one_of(time_grid_spacings()));
    return spec;
}

ode_sampler::ode_sampler(const options& opts, build_context&) : opts_(opts) {}

tensor ode_sampler::sample(const denoiser& d, tensor x, const sampling_context&) const {
    no_grad_guard no_grad;
    const std::vector<double> grid = time_grid(d.diffusion_process(), opts_.steps, opts_.spacing);
    for (std::size_t i = 0; i + 1 < grid.size(); ++i) {
        const double t = grid[i], h = grid[i + 1] - grid[i];
        const auto hf = static_cast<float>(h);
        const tensor k1 = velocity(d, x, t);
        if (opts_.method == "euler") {
            x = x + k1 * hf;
        } else if (opts_.method == "heun") {
            const tensor k2 = velocity(d, x + k1 * hf, t + h);
            x = x + (k1 + k2) * (0.5f * hf);
        } else {  // rk4
            const tensor k2 = velocity(d, x + k1 * (0.5f * hf), t + 0.5 * h);
            const tensor k3 = velocity(d, x + k2 * (0.5f * hf), t + 0.5 * h);
            const tensor k4 = velocity(d, x + k3 * hf, t + h);
            x = x + (k1 + k2 * 2.0f + k3 * 2.0f + k4) * (hf / 6.0f);
        }
    }
    return d.x0(x, grid.back());
}

}  // namespace difflab::plugins
