// SPDX-License-Identifier: Apache-2.0
// Solvers of the probability-flow ODE (Song et al. 2021): Euler, Heun, RK4 and adaptive RK45.
#include "ode_sampler.h"

#include <difflab/base/error.h>
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

tensor ode_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    if (opts_.method != "rk45") return sampler::sample(d, std::move(x), ctx);
    if (ctx.conditioned())
        throw config_error(
            "sampler 'ode' with method rk45 cannot follow a sampling path or constraints: it chooses its own steps "
            "for each sample; use method heun or rk4 (or sampler dpm_solver_pp) for conditioned sampling");
    no_grad_guard no_grad;
    const process& p = d.diffusion_process();
    const ode_function flow = [&](double t, const ode_state& y) { return ode_state{probability_flow(d, y[0], t)}; };
    std::vector<tensor> rows;
    for (std::int64_t i = 0; i < x.size(0); ++i) {
        const dormand_prince_result r =
            dormand_prince(flow, {x.slice(0, i, i + 1).contiguous()}, p.t_max(), p.t_min(), {opts_.rtol, opts_.atol});
        rows.push_back(d.x0(r.y[0], p.t_min()));
    }
    return rows.empty() ? x : concat(rows, 0);
}

std::vector<double> ode_sampler::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

namespace {

/// Euler, Heun or RK4 steps between path times (single-step methods: nothing to forget).
class ode_run final : public sampler_run {
public:
    ode_run(const denoiser& d, std::string method) : d_(d), method_(std::move(method)) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t) override {
        const double t = step.from, h = step.to - step.from;
        const auto hf = static_cast<float>(h);
        const tensor k1 = probability_flow(d_, x, t);
        if (method_ == "euler") return x + k1 * hf;
        if (method_ == "heun") {
            const tensor k2 = probability_flow(d_, x + k1 * hf, t + h);
            return x + (k1 + k2) * (0.5f * hf);
        }
        const tensor k2 = probability_flow(d_, x + k1 * (0.5f * hf), t + 0.5 * h);
        const tensor k3 = probability_flow(d_, x + k2 * (0.5f * hf), t + 0.5 * h);
        const tensor k4 = probability_flow(d_, x + k3 * hf, t + h);
        return x + (k1 + k2 * 2.0f + k3 * 2.0f + k4) * (hf / 6.0f);
    }
    tensor finish(const tensor& x, double t, std::uint64_t) override { return d_.x0(x, t); }

private:
    const denoiser& d_;
    std::string method_;
};

}  // namespace

std::unique_ptr<sampler_run> ode_sampler::start(const denoiser& d, const sampling_context&) const {
    if (opts_.method == "rk45") return nullptr;
    return std::make_unique<ode_run>(d, opts_.method);
}

}  // namespace difflab::plugins
