// SPDX-License-Identifier: Apache-2.0
// DPM-Solver and DPM-Solver++: exponential integrators of the probability-flow ODE in log-SNR.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace difflab::plugins {

struct dpm_solver_options : grid_options {
    dpm_solver_options() : grid_options{20, "logsnr"} {}
    std::int64_t order = 2;
    std::string method = "multistep";
};

/// DPM-Solver (Lu et al. 2022, "DPM-Solver: a fast ODE solver for diffusion probabilistic model
/// sampling in around 10 steps"): the probability-flow ODE solved exactly in its linear part
/// and by a Taylor expansion of the noise prediction in lambda = log(alpha / sigma), orders 1-3
/// (order 1 is DDIM), single-step (Algorithms 1-2, intermediate points at r = 1/2 or 1/3, 2/3)
/// or multistep (reusing earlier evaluations; the first steps use lower orders). Evaluations:
/// multistep `steps`; single-step order k: k (steps - 1) + 1.
class dpm_solver final : public sampler {
public:
    using options = dpm_solver_options;
    static param_spec<options> params();
    dpm_solver(const options& opts, build_context& ctx);
    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process& p) const override;
    bool deterministic() const override { return true; }

private:
    options opts_;
};

/// DPM-Solver++ (Lu et al. 2022, "DPM-Solver++: fast solver for guided sampling of diffusion
/// probabilistic models"): the same integrator on the data prediction x0, multistep orders 1-3
/// (2M is the usual choice), stabler under guidance.
class dpm_solver_pp final : public sampler {
public:
    using options = dpm_solver_options;
    static param_spec<options> params();
    dpm_solver_pp(const options& opts, build_context& ctx);
    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process& p) const override;
    bool deterministic() const override { return true; }

private:
    options opts_;
};

}  // namespace difflab::plugins
