// SPDX-License-Identifier: Apache-2.0
// The 'oracle_conditioning' task: one conditioning method on one sampler at one NFE budget, against the exact
// conditional.
#pragma once

#include <difflab/diffusion/guidance_schedule.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Measures one conditioning method (`method`) on one sampler (`sample.sampler`) and process
/// (`process:`), driven by the exact denoiser of the experiment's `gmm` data, against the exact
/// conditional law, so every error is the method's and the sampler's, never a network's. Given
/// y = H x of dataset example `observation` under the noiseless linear `measurement` H (a mask for
/// inpainting), with target p(x0 | H x0 = y) (measurement_posterior):
///   replacement               the measured part of the state replaced at its own noise level
///                             (measurement_replacement; Song et al. 2021), on the sampler's grid
///   repaint                   the same on RePaint's path (Lugmayr et al. 2022): jumps back up
///                             `jump_length` grid times, every stretch denoised `jump_n_sample` times
///   projection                the denoised estimate's measured part replaced (measurement_projection;
///                             Wang et al. 2023, DDNM)
///   reconstruction_guidance   Ho et al. 2022, eq. 7, at the `guidance` scale (measurement_conditioning.h)
/// with `replace`, projection and reconstruction guidance also replace the state (as Ho et al.
/// do). Given class k = `class`, with target p(x0 | k), the component's law:
///   classifier_guidance       Dhariwal & Nichol 2021 with the exact class posterior
///                             (gmm_class_posterior) at the `guidance` scale
///   classifier_free_guidance  Ho & Salimans 2022 over the exact denoisers of component k and of
///                             the mixture, at the `guidance` scale
/// From x_T = prior_std * randn (stream "oracle/prior") it draws sample.count samples and records
/// in metrics.json the metrics of `evaluate:` against as many exact samples of the target (a
/// sliced_wasserstein there is Rabin et al. 2011's distance) with each metric's floor
/// `<value>_floor` between `floor_pairs` pairs of other exact sets (oracle_evaluation.h),
/// mean_error and covariance_error against the target's exact moments, and `steps`, the base
/// steps of the sampler; the NFE spent is in the protocol.
///
/// Equal NFE: `sample.nfe` buys each method the largest base `steps` whose whole run fits it,
/// counted by a dry run of the method on one sample (sampler_for_budget with a cost): guidance
/// that adds a vector-Jacobian product pays for it, RePaint's jumps pay for the stretches they
/// denoise again. A sampler that refuses the process, cannot follow the method's path or edits
/// (adaptive rk45), or whose one step exceeds the budget throws variant_not_applicable: a grid
/// lists it as not run (experiments/oracle/conditioning.yaml).
class oracle_conditioning_task final : public task {
public:
    struct options {
        std::string method = "replacement";
        component_ref<difflab::measurement> measurement;
        std::int64_t observation = 0;
        std::int64_t jump_length = 10;
        std::int64_t jump_n_sample = 10;
        bool fixed_noise = false;
        bool replace = false;
        std::int64_t class_index = 0;
        guidance_schedule guidance;
        std::int64_t floor_pairs = 8;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "sample.sampler"}; }
    oracle_conditioning_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
