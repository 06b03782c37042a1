// SPDX-License-Identifier: Apache-2.0
// Registers the EDM process (Karras et al. 2022).
#include <difflab/plugin.h>

#include "edm_process.h"

DIFFLAB_PLUGIN(edm, "0.1.0", reg) {
    reg.add<difflab::plugins::edm_process>("edm");
}
