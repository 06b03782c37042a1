// SPDX-License-Identifier: Apache-2.0
// Registers the testing oracles: Gaussian-mixture data whose exact denoiser is known.
#include <difflab/plugin.h>

#include "gmm_dataset.h"

DIFFLAB_PLUGIN(oracles, "0.1.0", reg) {
    reg.add<difflab::plugins::gmm_dataset>("gmm");
}
