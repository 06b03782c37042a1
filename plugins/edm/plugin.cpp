// SPDX-License-Identifier: Apache-2.0
// Registers the EDM process and sampler (Karras et al. 2022).
#include <difflab/plugin/plugin.h>

#include "edm_process.h"
#include "edm_sampler.h"

DIFFLAB_PLUGIN(edm, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::edm_process>("edm");
    reg.add<difflab::plugins::edm_sampler>("edm");
}
