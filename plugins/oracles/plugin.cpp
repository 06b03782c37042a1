// SPDX-License-Identifier: Apache-2.0
// Registers the testing oracles: Gaussian-mixture data whose exact denoiser is known, and the
// task that compares samplers on it.
#include <difflab/plugin/plugin.h>

#include "gmm_dataset.h"
#include "sampler_comparison_task.h"

DIFFLAB_PLUGIN(oracles, "0.1.0", reg) {
    reg.add<difflab::plugins::gmm_dataset>("gmm");
    reg.add<difflab::plugins::sampler_comparison_task>("sampler_comparison");
}
