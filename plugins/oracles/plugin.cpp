// SPDX-License-Identifier: Apache-2.0
// Registers the testing oracles: Gaussian-mixture data whose exact denoiser is known, and the
// tasks that measure a sampler, or a conditioning method on a sampler, on it.
#include <difflab/plugin/plugin.h>

#include "gmm_dataset.h"
#include "oracle_conditioning_task.h"
#include "oracle_sampling_task.h"

DIFFLAB_PLUGIN(oracles, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::gmm_dataset>("gmm");
    reg.add<difflab::plugins::oracle_sampling_task>("oracle_sampling");
    reg.add<difflab::plugins::oracle_conditioning_task>("oracle_conditioning");
}
