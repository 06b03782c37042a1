// SPDX-License-Identifier: Apache-2.0
// The EDM sampler: Heun's method with optional churn.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Karras et al. 2022, Algorithm 2: Heun's second-order method on dx/dsigma = (x - D(x; sigma)) /
/// sigma over EDM's time steps, with "churn": at levels in [S_min, S_max] the noise level is
/// raised by gamma = min(S_churn / N, sqrt(2) - 1) with fresh noise scaled by S_noise before
/// the step (S_churn = 0 is the deterministic sampler, 2N - 1 evaluations). Processes with
/// alpha != 1 run on x / alpha with noise level sigma / alpha (eq. 7), so the sampler applies to
/// every process; noise levels raised beyond the process's largest are evaluated there.
class edm_sampler final : public sampler {
public:
    struct options : grid_options {
        options() : grid_options{18, "karras"} {}
        double s_churn = 0.0;
        double s_min = 0.0;
        double s_max = 1e30;
        double s_noise = 1.0;
    };
    static param_spec<options> params();
    edm_sampler(const options& opts, build_context& ctx);

    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    /// Heun on every step but the last (to clean data, Euler): 2 steps - 1.
    std::int64_t evaluations(const process&) const override { return 2 * opts_.steps - 1; }
    bool deterministic() const override { return opts_.s_churn == 0; }

private:
    options opts_;
};

}  // namespace difflab::plugins
