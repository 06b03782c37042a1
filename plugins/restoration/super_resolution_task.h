// SPDX-License-Identifier: Apache-2.0
// The 'super_resolution' task: SR3, its regression baseline, bicubic upsampling, ILVR and DDRM.
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <string>
#include <vector>

namespace difflab::plugins {

/// Super-resolution, the survey's first image-to-image application. The first `sample.count`
/// (or `evaluate.count`) images x of the run's data are downsampled by `measurement` (an operator
/// whose measurement is an image k times smaller: `resize`, the antialiased bicubic downsampler,
/// by default with factor 4, or `block_average`) to y = H x + sigma_y n, and `method` restores
/// them at the data's resolution:
///   bicubic     bicubic upsampling of y by k (no network);
///   regression  SR3's regression baseline (Saharia et al. 2022): the experiment's network,
///               trained here with L1 to x from the bicubic upsampling of y (its input x_t and
///               its extra channels, at noise input 0), then applied once;
///   sr3         SR3 (Saharia et al. 2022): a conditional denoiser trained here that sees the
///               bicubic upsampling of y concatenated to x_t (network `extra_in_channels` = the
///               data's channels), at continuous noise levels (t uniform over [t_min, t_max]
///               instead of the process's steps, as SR3 draws its level gamma between two
///               adjacent steps), so that any sampler and step count run it;
///   ilvr        ILVR (Choi et al. 2021) with the run's unconditional network: after each step
///               that arrives at t >= `range_t`, the state's low-pass content H^+ H x is replaced
///               by that of y noised to the state's own level (core measurement_replacement;
///               ILVR's reference code uses the previous step's level);
///   ddrm        the `ddrm` sampler (Kawar et al. 2022) with the run's unconditional network.
/// A model trained by sr3 or regression in one run is adopted by another with train.init_from
/// (experiments/sr3_fmnist.yaml, experiments/compare/sr_fmnist.yaml). Writes the outputs, a figure
/// of low-resolution | output | high-resolution rows (samples/super_resolution.png) and, with
/// `evaluate.metrics`, metrics against x paired image by image (psnr, ssim, fid,
/// classifier_accuracy against the true labels) plus `consistency`, the root mean square of
/// H x_hat - y (SR3's low-resolution consistency).
class super_resolution_task final : public task {
public:
    struct options {
        component_ref<difflab::measurement> measurement{"resize"};
        std::string method = "sr3";
        double range_t = 0.0;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network"}; }
    super_resolution_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
