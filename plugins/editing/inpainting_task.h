// SPDX-License-Identifier: Apache-2.0
// The 'inpainting' task: fill in the missing pixels of real images with an unconditional model.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Inpainting with an unconditional diffusion model, the survey's image inpainting (Song et al.
/// 2021's replacement; Lugmayr et al. 2022, RePaint): the first `sample.count` (or
/// `evaluate.count`) images of the run's data lose the pixels `mask` hides (inpainting_masks.h,
/// seeded per image), and `sample.sampler` fills them in while every state has its known
/// pixels replaced by the known image noised to the state's own level (core mask_replacement).
/// `method: replacement` samples along the sampler's own path; `method: repaint` along
/// RePaint's path over the sampler's times, jumping back `jump_length` steps `jump_n_sample - 1`
/// times per stretch (core repaint_path), so that the known and generated parts harmonize. The
/// network is the run's (usually adopted with train.init_from). Writes the samples, a figure of
/// masked input | output | ground truth rows (samples/inpainting.png) and, with
/// `evaluate.metrics`, metrics against the ground truth paired image by image (fid, psnr,
/// feature_distance, classifier_accuracy against the true labels, ...) plus `psnr_missing`,
/// the PSNR over the missing pixels only.
class inpainting_task final : public task {
public:
    struct options {
        std::string mask = "center";
        std::string method = "replacement";
        std::int64_t jump_length = 10;
        std::int64_t jump_n_sample = 10;
        bool fixed_noise = false;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    inpainting_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
