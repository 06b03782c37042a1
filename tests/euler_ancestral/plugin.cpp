// SPDX-License-Identifier: Apache-2.0
// Registers sampler/euler_ancestral.
#include <difflab/plugin/plugin.h>

#include "euler_ancestral_sampler.h"

DIFFLAB_PLUGIN(euler_ancestral, "0.1.0", reg) {
    reg.add<euler_ancestral::euler_ancestral_sampler>("euler_ancestral");
}
