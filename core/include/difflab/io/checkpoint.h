// SPDX-License-Identifier: Apache-2.0
// Training checkpoints: weights PyTorch can read, plus the state to resume, saved as a set.
#pragma once

#include <difflab/tensor/module.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace difflab {

/// Everything a training run needs to resume at `step`.
struct checkpoint {
    std::uint64_t step = 0;
    state_dict_t model;      ///< the weights (state_dict)
    state_dict_t ema;        ///< EMA shadow of the weights; empty when the run keeps none
    state_dict_t optimizer;  ///< optimizer state tensors (momentum buffers, Adam moments)
    /// Scalars to resume with: optimizer step count, learning rate, data order position...
    std::map<std::string, std::string> state;
};

/// Saves `value` in `directory` (docs/architecture.md, "Run directories") as a consistent set:
///   step_<n>.safetensors        the weights alone, loadable by safetensors.torch.load_file;
///   step_<n>.state.safetensors  "ema/<name>" and "optimizer/<name>" tensors, `state` in its
///                               metadata;
///   latest                      "step_<n>", rewritten last.
/// Each file is written atomically (temp file, fsync, rename, directory fsync) and both carry
/// the same save id, so a run killed at any instant leaves `latest` naming a complete pair.
/// Each also carries the CRC-32 of its tensor data (metadata "data_crc32"), which loading checks,
/// so that bytes changed on disk are an error rather than other weights.
/// Stale temporary files of an earlier interrupted save are removed first. When `keep_last`
/// is positive, only that many newest checkpoints are kept. In a job of several MPI ranks only
/// rank 0 saves; the others return at once.
void save_checkpoint(const std::filesystem::path& directory, const checkpoint& value, int keep_last = 0);

/// The steps of the checkpoints in `directory` (those with a weights file), newest first.
std::vector<std::uint64_t> checkpoint_steps(const std::filesystem::path& directory);

/// The step that `directory`/latest names, or nullopt when there is no checkpoint yet.
std::optional<std::uint64_t> latest_checkpoint_step(const std::filesystem::path& directory);

/// Loads the checkpoint of `step`, checking that its two files belong to the same save and that
/// their data match their CRC-32 (when saved with one).
checkpoint load_checkpoint(const std::filesystem::path& directory, std::uint64_t step);
/// Loads the checkpoint `latest` names; an error when there is none.
checkpoint load_latest_checkpoint(const std::filesystem::path& directory);

/// Saves a training run at `step`: the model's state_dict, the optimizer's state with its
/// step count and learning rate, the EMA weights (when `ema` is not null), and `extra`
/// scalars (data order position, RNG stream positions...).
void save_checkpoint(const std::filesystem::path& directory, std::uint64_t step, const module& model,
                     const optim::optimizer& optimizer, const optim::ema* ema,
                     const std::map<std::string, std::string>& extra = {}, int keep_last = 0);

/// Restores what that `save_checkpoint` saved into `model`, `optimizer` and `ema` (exact
/// names and shapes, else an error naming the tensor) and returns the checkpoint, whose
/// `state` holds the extra scalars. An `ema` given to a checkpoint saved without one is an
/// error; an EMA in the checkpoint is ignored when `ema` is null.
checkpoint restore_checkpoint(const std::filesystem::path& directory, std::uint64_t step, module& model,
                              optim::optimizer& optimizer, optim::ema* ema);

}  // namespace difflab
