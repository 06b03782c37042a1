// SPDX-License-Identifier: Apache-2.0
// The 'oracle_sampling' task: one sampler on one process at one NFE budget, against exact answers.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Measures one sampler (`sample.sampler`, its steps set from `sample.nfe` by
/// sampler_for_budget) on one process (`process:`) driven by the exact denoiser of the
/// experiment's `gmm` data, so every error is the sampler's own discretization error, never a
/// network's. From x_T = prior_std * randn (stream "oracle/prior") it draws sample.count samples
/// and records in metrics.json
///   - the metrics of `evaluate:` against as many exact data samples (examples 0..count-1; a
///     sliced_wasserstein there is Rabin et al. 2011's distance), and each metric's value
///     between `floor_pairs` pairs of other exact sample sets, averaged, as `<value>_floor`:
///     what a perfect sampler scores at this sample size,
///   - mean_error and covariance_error against the mixture's exact moments,
///   - for deterministic samplers, ode_error: the RMS distance to the exact probability-flow
///     ODE solution from the same x_T (sampler `ode`, method rk45, at `reference_tolerance`;
///     computed once per process and data within a `difflab` process, so a grid shares it),
///   - steps (0 for adaptive samplers), with the NFE spent in the protocol.
/// Karras et al. 2022 and Lu et al. 2022 compare samplers at equal NFE the same way; a
/// `variants:` grid over process x sampler x sample.nfe is the comparison
/// (experiments/oracle/samplers_vs_nfe.yaml). A sampler that refuses the process, or a budget
/// below one step, throws variant_not_applicable: a grid lists it as not run.
class oracle_sampling_task final : public task {
public:
    struct options {
        std::int64_t reference_count = 200;
        double reference_tolerance = 1e-6;
        std::int64_t floor_pairs = 8;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "sample.sampler"}; }
    oracle_sampling_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
