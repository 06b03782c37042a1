// SPDX-License-Identifier: Apache-2.0
// The 'generation' task: train a denoising network on a dataset, then sample from it.
#pragma once

#include <difflab/diffusion/guidance_schedule.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Unconditional and class-conditional image (or point) generation, the survey's first
/// application: trains the experiment's network on its data under its process (`train:`,
/// the denoising loss of Ho et al. 2020 and its parametrizations), then draws `sample.count`
/// samples with `sample.sampler` from the EMA weights and writes a PNG grid, the raw samples
/// and report.md. Two guided forms draw samples of given classes (cycling 0, 1, ...), both with
/// the `guidance` schedule's scale s, where s = 0 is the unconditional model and s = 1 the
/// conditional one:
/// - classifier-free guidance (Ho & Salimans 2022, guided_denoiser) of a class-conditional
///   network trained with label dropout (the null class with probability `label_dropout`):
///   x0 = x0_uncond + s (x0_cond - x0_uncond), two network passes per step in one call; Ho &
///   Salimans' w is s - 1 (latent-diffusion's s = 1 + w);
/// - classifier guidance (Dhariwal & Nichol 2021, classifier_guidance) of an unconditional
///   network by the noise-aware classifier in `classifier` (a classifier_training run's
///   classifier.safetensors with noisy: true): score + s grad log p(y | x_t).
/// With `evaluate.metrics` it then scores `evaluate.count` samples against the data's reference
/// split and writes metrics.json with the protocol (evaluation.h). `difflab run --resume`
/// continues training from the latest checkpoint; `difflab sample RUN` samples an existing run
/// with other sampler settings.
class generation_task final : public task {
public:
    struct options {
        bool class_conditional = false;
        std::int64_t num_classes = 10;
        double label_dropout = 0.1;
        guidance_schedule guidance;
        std::string classifier;  ///< a noise-aware classifier file: classifier guidance
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    generation_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    /// Whether samples are drawn for classes (and evaluated against them).
    bool guided() const { return opts_.class_conditional || !opts_.classifier.empty(); }

    options opts_;
};

}  // namespace difflab::plugins
