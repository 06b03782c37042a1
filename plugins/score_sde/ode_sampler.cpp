// SPDX-License-Identifier: Apache-2.0
// Solvers of the probability-flow ODE (Song et al. 2021): Euler, Heun, RK4 and adaptive RK45.
#include "ode_sampler.h"

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>

#include "dormand_prince.h"

namespace difflab::plugins {

tensor probability_flow(const denoiser& d, const tensor& x, double t) {
    return probability_flow(d.diffusion_process(), x, d.x0(x, t), t);
}

tensor probability_flow(const process& p, const tensor& x, const tensor& x0, double t) {
    const double g = p.diffusion(t);
    return x * p.drift(t) - score_from_x0(p, x, x0, t) * (0.5 * g * g);
}

param_spec<ode_sampler::options> ode_sampler::params() {
    param_spec<options> spec{"Probability-flow ODE solver (Song et al. 2021): Euler, Heun, RK4 or adaptive RK45."};
    spec.add(&options::method, "method",
             "Solver: euler (1st order), heun (2nd), rk4 (4th) on the time grid; rk45 (adaptive Dormand-Prince "
             "5(4), each sample on its own step sequence).",
             one_of({"euler", "heun", "rk4", "rk45"}));
    add_grid_options(spec, "Number of time points (solver steps + 1); ignored by rk45.", "Time grid; ignored by rk45.");
    spec.add(&options::rtol, "rtol", "rk45: relative tolerance of the local error (score_sde: 1e-5).",
             greater_than(0.0));
    spec.add(&options::atol, "atol", "rk45: absolute tolerance of the local error (score_sde: 1e-5).",
             greater_than(0.0));
    return spec;
}

ode_sampler::ode_sampler(const options& opts, build_context&) : opts_(opts) {}

std::int64_t ode_sampler::evaluations(const process&) const {
    if (opts_.method == "euler") return opts_.steps;
    if (opts_.method == "heun") return 2 * opts_.steps - 1;
    if (opts_.method == "rk4") return 4 * opts_.steps - 3;
    return 0;  // rk45: adaptive
}

tensor ode_sampler::sample(const denoiser& d, tensor x, const sampling_context&) const {
    no_grad_guard no_grad;
    const process& p = d.diffusion_process();
    if (opts_.method == "rk45") {
        const ode_function flow = [&](double t, const ode_state& y) { return ode_state{probability_flow(d, y[0], t)}; };
        std::vector<tensor> rows;
        for (std::int64_t i = 0; i < x.size(0); ++i) {
            const dormand_prince_result r = dormand_prince(flow, {x.slice(0, i, i + 1).contiguous()}, p.t_max(),
                                                           p.t_min(), {opts_.rtol, opts_.atol});
            rows.push_back(d.x0(r.y[0], p.t_min()));
        }
        return rows.empty() ? x : concat(rows, 0);
    }
    const std::vector<double> grid = time_grid(p, opts_.steps, opts_.spacing);
    for (std::size_t i = 0; i + 1 < grid.size(); ++i) {
        const double t = grid[i], h = grid[i + 1] - grid[i];
        const auto hf = static_cast<float>(h);
        const tensor k1 = probability_flow(d, x, t);
        if (opts_.method == "euler") {
            x = x + k1 * hf;
        } else if (opts_.method == "heun") {
            const tensor k2 = probability_flow(d, x + k1 * hf, t + h);
            x = x + (k1 + k2) * (0.5f * hf);
        } else {  // rk4
            const tensor k2 = probability_flow(d, x + k1 * (0.5f * hf), t + 0.5 * h);
            const tensor k3 = probability_flow(d, x + k2 * (0.5f * hf), t + 0.5 * h);
            const tensor k4 = probability_flow(d, x + k3 * hf, t + h);
            x = x + (k1 + k2 * 2.0f + k3 * 2.0f + k4) * (hf / 6.0f);
        }
    }
    return d.x0(x, grid.back());
}

}  // namespace difflab::plugins
