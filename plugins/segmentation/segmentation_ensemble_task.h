// SPDX-License-Identifier: Apache-2.0
// The 'segmentation_ensemble' task: a diffusion model of masks given the image, sampled as an ensemble.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Implicit segmentation ensembles (Wolleb et al. 2022, "Diffusion models for implicit image
/// segmentation ensembles"): the run's network denoises a binary mask x (values in {0, 1}, as
/// their code keeps them) with the image concatenated as extra input channels (`paired`, as
/// fashion_scenes gives it with example: mask; network extra_in_channels = the image's
/// channels), trained here on the run's data (or adopted with train.init_from). Sampling with
/// `sample.sampler` draws an ensemble of the largest of `sizes` masks for each of the first
/// sample.count / that many `test` scenes (sample i: scene i / n, member i % n, its noise keyed
/// by i as every draw). An ensemble of n predicts mean > `threshold`; its per-pixel standard
/// deviation is the uncertainty map. metrics.json: dice_n<n> for each size (Dice against the
/// true mask, mean over the scenes, a scene with both masks empty counting 1), and
/// uncertainty_auroc_n<n> for each size from 2 (how well the standard deviation ranks the
/// ensemble's wrong pixels above its right ones). Figure: image | true mask | ensemble
/// prediction | standard deviation (samples/segmentation_ensemble.png).
class segmentation_ensemble_task final : public task {
public:
    struct options {
        component_ref<dataset> test{"fashion_scenes"};
        std::vector<std::int64_t> sizes{1, 3, 5, 10};
        double threshold = 0.5;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    segmentation_ensemble_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
