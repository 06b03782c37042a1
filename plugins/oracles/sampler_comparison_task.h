// SPDX-License-Identifier: Apache-2.0
// The 'sampler_comparison' task: every sampler on every process at equal NFE, against exact answers.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <vector>

namespace difflab::plugins {

/// Compares samplers on Gaussian-mixture data (the experiment's `data`, a `gmm`), driven by
/// the exact denoiser, so every difference is the sampler's own discretization error, never
/// a network's. For each process, sampler and NFE budget it reports
///   - the sliced 2-Wasserstein distance to as many exact data samples (and the floor: the
///     same distance between two exact sample sets),
///   - the error of the sample mean and covariance against the mixture's exact moments,
///   - for deterministic samplers, the RMS distance to the exact probability-flow ODE
///     solution from the same x_T (sampler `ode`, method rk45, at `reference_tolerance`),
/// as results.csv, a table per process in report.md and error-vs-NFE plots. A sampler's
/// `steps` for a budget is the largest whose evaluations() fits it (Karras et al. 2022 and
/// Lu et al. 2022 compare at equal NFE the same way). With `max_sliced_w2` set, the run fails
/// when a cell exceeds it: a conformance check (experiments/oracle/sampler_conformance.yaml).
class sampler_comparison_task final : public task {
public:
    struct options {
        std::vector<component_ref<process>> processes;
        std::vector<component_ref<sampler>> samplers;
        std::vector<std::int64_t> nfe{5, 10, 20, 50, 100, 1000};
        std::int64_t count = 2000;
        std::int64_t batch_size = 1000;
        std::int64_t reference_count = 200;
        double reference_tolerance = 1e-6;
        std::int64_t projections = 128;
        double max_sliced_w2 = 0;
    };
    static param_spec<options> params();
    sampler_comparison_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
