// SPDX-License-Identifier: Apache-2.0
// The 'generation' task: train a denoising network on a dataset, then sample from it.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/trajectory.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>
#include <difflab/run/training.h>

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
/// Salimans 2022) with `guidance_scale` w: x0 = x0_uncond + w (x0_cond - x0_uncond), two
/// evaluations per step. With `evaluate.metrics` it then scores `evaluate.count` samples
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
    generation_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    struct drawn_samples {
        tensor samples;
        std::int64_t evaluations_per_batch = 0;  ///< network evaluations (two per step with guidance)
        double seconds = 0;
        std::vector<trajectory_frame> frames;  ///< the first batch's path, for the trajectory strip
    };

    /// Trains (or resumes, or starts from train.init_from); returns the report's lines.
    std::string train_network(run_context& ctx, const training_options& train, network& net, const process& diffusion,
                              const dataset& data) const;
    /// Draws `count` samples with sample.sampler: x_T and every sampler draw keyed by sample
    /// index, so the first n of any count are the same n samples.
    drawn_samples draw_samples(run_context& ctx, const sampling_options& sample, prediction kind, double sigma_data,
                               network& net, const process& diffusion, const shape_t& example,
                               std::int64_t count) const;

    options opts_;
};

}  // namespace difflab::plugins
