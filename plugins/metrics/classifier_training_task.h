// SPDX-License-Identifier: Apache-2.0
// The 'classifier_training' task: trains the feature network that feature-space metrics read.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>

namespace difflab::plugins {

/// Supervised training of an image classifier on a labelled dataset, the Fashion-MNIST stand-in
/// for Inception-v3 in FID (Heusel et al. 2017) and the inception score (Salimans et al. 2016):
/// the experiment's `network` (a classifier: forward gives logits [N, num_classes]; the unet
/// plugin's `classifier` with time_conditioned: false) learns the `data` labels by cross-entropy
/// with Adam (Kingma & Ba 2015), linear learning-rate warm-up, then a constant or cosine-decayed
/// (Loshchilov & Hutter 2017, without restarts) learning rate, and gradient-norm clipping; the
/// data order is a Philox permutation per epoch keyed by the experiment's seed. Then it measures
/// the accuracy on the `test_split` of the same dataset and writes RUN_DIR/classifier.safetensors
/// (the weights; metadata "network" = the resolved network as one line of flow YAML, "test_accuracy",
/// "train_steps", "experiment"), log.jsonl and report.md. The file is what the metrics'
/// `feature_network` option loads. Spends no denoiser evaluations (no diffusion is involved).
class classifier_training_task final : public task {
public:
    struct options {
        std::int64_t steps = 3000;
        std::int64_t batch_size = 64;
        double lr = 1e-3;
        std::int64_t warmup = 100;
        std::string schedule = "cosine";
        double grad_clip = 1.0;
        std::string test_split = "test";
        std::int64_t log_every = 50;
    };
    static param_spec<options> params();
    classifier_training_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
