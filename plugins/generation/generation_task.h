// SPDX-License-Identifier: Apache-2.0
// The 'generation' task: train a denoising network on a dataset, then sample from it.
#pragma once

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
/// and report.md. Class-conditional training drops labels with probability `label_dropout`
/// (the network's null class) so that sampling can use classifier-free guidance (Ho &
/// Salimans 2022, guided_denoiser) with `guidance_scale` w: x0 = x0_uncond + w (x0_cond -
/// x0_uncond), two evaluations per step. With `evaluate.metrics` it then scores `evaluate.count` samples
/// against the data's reference split and writes metrics.json with the protocol (evaluation.h).
/// `difflab run --resume` continues training from the latest
/// checkpoint; `difflab sample RUN` samples an existing run with other sampler settings.
class generation_task final : public task {
public:
    struct options {
        bool class_conditional = false;
        std::int64_t num_classes = 10;
        double label_dropout = 0.1;
        double guidance_scale = 1.0;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    generation_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
