// SPDX-License-Identifier: Apache-2.0
// The 'sdedit' task: realistic images from coarse stroke paintings (SDEdit).
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Image synthesis and editing from guides (Meng et al. 2022, SDEdit: "Guided image synthesis
/// and editing with stochastic differential equations"): each of the first `sample.count` (or
/// `evaluate.count`) images of the run's data becomes a stroke painting (sdedit_guides.h:
/// `guide_size` x `guide_size` block averages in `guide_levels` grey levels, upsampled), which
/// is noised to time `t0` (core noised_start) and denoised by `sample.sampler` from there with
/// the sampler's own steps (so every t0 costs the same NFE). Small t0 stays faithful to the
/// guide, large t0 makes realistic images that forget it. `rounds` K > 1 is SDEdit's chained
/// variant: the output at t_min jumps back to t0 through q(x_t0 | x_tmin) and is denoised again,
/// K times in all, as one sampling path. `keep` (a mask kind of the inpainting task, or none)
/// keeps a region of the source image: replaced at every state (core mask_replacement), as
/// SDEdit's stroke-based editing keeps the unmasked image. Writes the samples, a figure of
/// guide | output | source rows (samples/sdedit.png) and, with `evaluate.metrics`, metrics
/// paired with the source images (fid for realism, classifier_accuracy against the source
/// class, ...) plus `guide_l2`, the mean L2 distance to the guide at the guide's resolution
/// (faithfulness).
class sdedit_task final : public task {
public:
    struct options {
        double t0 = 0.5;
        std::int64_t rounds = 1;
        std::int64_t guide_size = 7;
        std::int64_t guide_levels = 4;
        std::string keep = "none";
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    sdedit_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
