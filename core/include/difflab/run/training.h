// SPDX-License-Identifier: Apache-2.0
// The `train:` and `sample:` sections of an experiment, and the diffusion training loop.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/process.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/params.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

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
    std::int64_t warmup = 0;  ///< linear learning-rate warm-up steps
    double grad_clip = 1.0;   ///< max gradient norm; 0 disables clipping
    double ema = 0.9999;      ///< EMA decay of the weights sampled with (warmed up); 0 disables it
    std::int64_t checkpoint_every = 1000;
    std::int64_t keep_checkpoints = 2;
    std::int64_t log_every = 10;
    /// A run directory whose latest checkpoint this run starts from (adopt_checkpoint).
    std::string init_from;

    static param_spec<training_options> params();
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

    static param_spec<sampling_options> params();
};

/// Everything the loop needs besides the options: where conditioning comes from is the task's.
struct training_job {
    training_job(network& net, const process& diffusion, const dataset& data, training_options options,
                 std::uint64_t seed, std::filesystem::path checkpoint_dir, bool resume = false)
        : net(net),
          diffusion(diffusion),
          data(data),
          options(std::move(options)),
          seed(seed),
          checkpoint_dir(std::move(checkpoint_dir)),
          resume(resume) {}

    network& net;
    const process& diffusion;
    const dataset& data;
    training_options options;
    std::uint64_t seed = 0;
    std::filesystem::path checkpoint_dir;
    bool resume = false;
    /// Labels the network sees for a batch, from the dataset's; `step` and `first_position`
    /// key any randomness (label dropout for classifier-free guidance). Empty: no labels.
    std::function<tensor(const tensor& labels, std::int64_t step, std::int64_t first_position)> labels;
    /// log.jsonl receives one line per logged step; empty: no log file.
    std::filesystem::path log_file;
};

/// What a finished (or stopped) training run reports.
struct training_result {
    std::int64_t steps_done = 0;
    double last_loss = 0;
    double seconds = 0;
};

/// Trains `job.net` to denoise `job.data` under `job.diffusion` (denoising_loss), with the
/// optimizer, warm-up, clipping and EMA of `job.options`; the data order is a Philox
/// permutation per epoch and every random draw is keyed by (seed, purpose, position, step),
/// so a run resumed from a checkpoint (`job.resume`: the latest in checkpoint_dir) gives
/// bitwise the weights of an uninterrupted one at the same thread count. Checkpoints every
/// `checkpoint_every` steps and at the end. A loss that is NaN or infinite stops the run
/// with an error naming the step and the last good checkpoint, which is kept. When `stop`
/// becomes true (Ctrl-C), the loop saves a checkpoint at the current step and throws.
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
