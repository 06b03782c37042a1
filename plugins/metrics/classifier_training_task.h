// SPDX-License-Identifier: Apache-2.0
// The 'classifier_training' task: trains the feature network that feature-space metrics read.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <string>
#include <vector>

namespace difflab::plugins {

/// Supervised training of an image classifier on a labelled dataset, the Fashion-MNIST stand-in
/// for Inception-v3 in FID (Heusel et al. 2017) and the inception score (Salimans et al. 2016):
/// the experiment's `network` (a classifier: forward gives logits [N, num_classes]; the unet
/// plugin's `classifier` with time_conditioned: false) learns the `data` labels by cross-entropy
/// in the training loop of diffusion models (train_network: the `train:` section's optimizer,
/// warm-up, constant or cosine schedule, clipping, EMA, checkpoints, --resume, Ctrl-C). Then
/// it measures the accuracy on the `test_split` of the same dataset with the final weights
/// (the EMA ones when train.ema keeps them) and writes RUN_DIR/classifier.safetensors (a
/// network_file: the weights; metadata "network" = the resolved network as one line of flow
/// YAML, "test_accuracy", "train_steps", "experiment"), log.jsonl and report.md. The file is
/// what the metrics' `feature_network` option loads. Spends no denoiser evaluations.
///
/// With `noisy: true` it trains the noise-aware classifier of classifier guidance (Dhariwal &
/// Nichol 2021, guided-diffusion's classifier_train.py): each example is seen as x_t = alpha(t)
/// x0 + sigma(t) eps of the experiment's `process`, t drawn from the process's training
/// distribution, and the network (time_conditioned: true) gets t as its noise input, as
/// network_class_log_likelihood gives it when guiding. The test accuracy is then reported at
/// several times (metadata "test_accuracy" is at t_min; "test_accuracy_by_time" lists them all).
class classifier_training_task final : public task {
public:
    struct options {
        std::string test_split = "test";
        bool noisy = false;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "network"}; }
    classifier_training_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
