// SPDX-License-Identifier: Apache-2.0
// train.init_from: starting a run from another run's latest checkpoint.
#pragma once

#include <difflab/plugin/config_node.h>

#include <filesystem>

namespace difflab {

/// `train.init_from`: when `checkpoint_dir` holds no checkpoint yet, copies into it the latest
/// checkpoint (weights, EMA, optimizer, step) of the run directory `source`, so that training
/// resumes from it: fine-tuning, or, with train.steps equal to its step, sampling and
/// evaluating a trained model in a new experiment without training again. Checks first that
/// `source` trained the same network under the same process and parametrization as
/// `experiment` (resolved), and that its step does not exceed train.steps. Does nothing when
/// checkpoint_dir already holds a checkpoint (adopted earlier, or trained on since).
void adopt_checkpoint(const std::filesystem::path& source, const config_node& experiment,
                      const std::filesystem::path& checkpoint_dir);

}  // namespace difflab
