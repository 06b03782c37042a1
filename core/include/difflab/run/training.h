// SPDX-License-Identifier: Apache-2.0
// The `train:` and `sample:` sections of an experiment, the training loop and its diffusion objective.
#pragma once

#include <difflab/diffusion/condition.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/process.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/params.h>
#include <difflab/tensor/optim.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace difflab {

class run_context;

/// `train:` — how a network is trained.
struct training_options {
    std::int64_t steps = 0;  ///< 0: no training (sampling an existing run, or an exact denoiser)
    std::int64_t batch_size = 64;
    std::string prediction = "eps";  ///< the parametrization (denoiser.h): eps, x0, v, score, edm
    double sigma_data = 0.5;         ///< EDM preconditioning
    std::string optimizer = "adam";  ///< adam or adamw
    double lr = 2e-4;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double weight_decay = 0;
    std::int64_t warmup = 0;            ///< linear learning-rate warm-up steps
    std::string schedule = "constant";  ///< the learning rate after the warm-up: constant or cosine
    double grad_clip = 1.0;             ///< max gradient norm; 0 disables clipping
    double ema = 0.9999;                ///< EMA decay of the weights sampled with (warmed up); 0 disables it
    std::int64_t checkpoint_every = 1000;
    std::int64_t keep_checkpoints = 2;
    std::int64_t log_every = 10;
    /// A run directory whose latest checkpoint this run starts from (adopt_checkpoint).
    std::string init_from;
    /// "fp32", or "bf16": mixed precision (precision.h), convolutions and matrix products in
    /// bf16 with f32 master weights, gradients and optimizer state.
    std::string precision = "fp32";

    static param_spec<training_options> params();
    /// The learning rate of every step: `warmup` steps of linear warm-up to `lr`, then `lr`
    /// (constant) or a cosine decay to 0 at step `steps` (cosine; constant when the warm-up
    /// takes every step).
    optim::lr_schedule learning_rates() const;
};

/// `sample:` — how a run draws samples after (or without) training.
struct sampling_options {
    component_ref<difflab::sampler> sampler;  ///< required by tasks that sample
    std::int64_t nfe = 0;  ///< NFE budget that sets the sampler's steps (nfe_budget.h); 0: its own steps
    std::int64_t count = 64;
    std::int64_t batch_size = 64;
    std::int64_t columns = 8;             ///< of the sample grid
    bool ema = true;                      ///< sample with the EMA weights when the run keeps them
    bool clip_denoised = false;           ///< clamp denoised estimates to [-1, 1] (image data)
    std::int64_t trajectory = 4;          ///< samples in the denoising-trajectory strip (0: none)
    std::int64_t trajectory_columns = 8;  ///< evaluations shown per strip row
    std::string precision = "fp32";       ///< of the network's convolutions and matrix products (precision.h)

    static param_spec<sampling_options> params();
};

/// Everything the training loop needs besides the objective.
struct training_setup {
    training_setup(network& net, const dataset& data, training_options options, std::uint64_t seed,
                   std::filesystem::path checkpoint_dir, bool resume = false)
        : net(net),
          data(data),
          options(std::move(options)),
          seed(seed),
          checkpoint_dir(std::move(checkpoint_dir)),
          resume(resume) {}

    network& net;
    const dataset& data;
    training_options options;
    std::uint64_t seed = 0;
    std::filesystem::path checkpoint_dir;
    bool resume = false;
    /// log.jsonl receives one line per logged step; empty: no log file.
    std::filesystem::path log_file;
    /// The Philox purpose keying the data order (per epoch); a task may keep its own so that its
    /// runs keep the data order they were trained with.
    std::string order_purpose = "train/order";
};

/// One optimizer step as the objective sees it.
struct training_step {
    std::int64_t step = 0;            ///< 0-based
    std::int64_t first_position = 0;  ///< of the batch in the data stream: keys per-example randomness
    bool logged = false;              ///< whether this step writes a line of log.jsonl
    /// Values the objective adds to that line, after "loss" (e.g. a batch accuracy).
    std::vector<std::pair<std::string, double>> log_values;
};

/// The loss of one batch (a scalar tensor with its graph): what a training loop minimizes.
using training_objective = std::function<tensor(const example_batch& batch, training_step& step)>;

/// The condition the network sees for a batch of training examples (its labels, paired inputs,
/// ...): the task owns training-time corruption such as label dropout for classifier-free
/// guidance, SR3's noise on the low-resolution image or clean frames of a video. `step` and
/// `first_position` (of the batch in the data stream) key any randomness, so that a resumed run
/// draws what an uninterrupted one would.
using condition_source =
    std::function<condition(const example_batch& batch, std::int64_t step, std::int64_t first_position)>;

/// The diffusion objective's inputs: the setup, the process, the noise and where the condition
/// comes from.
struct training_job : training_setup {
    training_job(network& net, const process& diffusion, const dataset& data, training_options options,
                 std::uint64_t seed, std::filesystem::path checkpoint_dir, bool resume = false)
        : training_setup(net, data, std::move(options), seed, std::move(checkpoint_dir), resume),
          diffusion(diffusion) {}
    training_job(training_setup setup, const process& diffusion)
        : training_setup(std::move(setup)), diffusion(diffusion) {}

    const process& diffusion;
    /// The noise of x_t = alpha x0 + sigma noise (the experiment's `noise:`); nullptr draws
    /// standard Gaussian noise, exactly the draws of the `gaussian` component.
    const noise* source = nullptr;
    /// The condition of each batch. Empty: an empty condition (no labels, whatever the dataset has).
    condition_source conditioning;
    /// The training time of a uniform draw u in [0, 1). Empty: the process's training_time (DDPM's
    /// discrete steps); SR3 draws a continuous level between two adjacent steps instead
    /// (Saharia et al. 2022), so that its network runs on any step count.
    std::function<double(double u)> time_of;
};

/// What a finished (or stopped) training run reports.
struct training_result {
    std::int64_t steps_done = 0;
    double last_loss = 0;
    double seconds = 0;
};

/// The training loop of every task: minimizes `objective` over `setup.data` with the
/// optimizer, learning-rate schedule (warm-up, then constant or cosine), clipping and EMA of
/// `setup.options`; the data order is a Philox permutation per epoch keyed by (seed,
/// order_purpose, epoch), and the objective keys its own draws by (seed, purpose, position,
/// step), so a run resumed from a checkpoint (`setup.resume`: the latest in checkpoint_dir)
/// gives bitwise the weights of an uninterrupted one at the same thread count. Checkpoints
/// every `checkpoint_every` steps and at the end. A loss that is NaN or infinite stops the run
/// with an error naming the step and the last good checkpoint, which is kept. When `stop`
/// becomes true (Ctrl-C), the loop saves a checkpoint at the current step and throws.
///
/// In an MPI job (distributed.h) the loop is data-parallel: rank r computes `objective` on its
/// contiguous share of each batch's rows (training_step::first_position is where that share
/// starts in the data stream, so every per-example draw is the one a single process makes),
/// the gradient of the batch is the sum over ranks of each share's mean gradient weighted by its
/// rows, taken in rank order, and every rank applies the same update. The objective must
/// therefore be a mean over its examples, as the denoising loss is. Rank 0 alone writes
/// checkpoints and log.jsonl; a resumed run may have another number of ranks.
training_result train_network(const training_setup& setup, const training_objective& objective,
                              const std::atomic<bool>* stop = nullptr);

/// train_network with the denoising loss of `job.diffusion` (denoising_loss): a time per
/// example from (seed, "train/time", position), noise from job.source keyed (seed,
/// "train/noise", first position, step 0), the condition from job.conditioning.
training_result train_diffusion(const training_job& job, const std::atomic<bool>* stop = nullptr);

/// Installs a SIGINT/SIGTERM handler that sets the returned flag (for the training loop to
/// save and stop) for the lifetime of the guard.
class interrupt_guard {
public:
    interrupt_guard();
    ~interrupt_guard();
    interrupt_guard(const interrupt_guard&) = delete;
    interrupt_guard& operator=(const interrupt_guard&) = delete;
    const std::atomic<bool>& flag() const;
};

}  // namespace difflab
