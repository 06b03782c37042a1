// SPDX-License-Identifier: Apache-2.0
// Registers the DDPM / ADM U-Net (Ho et al. 2020; Nichol & Dhariwal 2021; Dhariwal & Nichol 2021).
#include <difflab/plugin/plugin.h>

#include "classifier.h"
#include "unet.h"

DIFFLAB_PLUGIN(unet, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::unet>("unet");
    reg.add<difflab::plugins::classifier>("classifier");
}
