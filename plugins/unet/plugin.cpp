// SPDX-License-Identifier: Apache-2.0
// Registers the DDPM / ADM U-Net (Ho et al. 2020; Dhariwal & Nichol 2021), its classifier, the video U-Net.
#include <difflab/plugin/plugin.h>

#include "classifier.h"
#include "unet.h"
#include "unet3d.h"

DIFFLAB_PLUGIN(unet, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::unet>("unet");
    reg.add<difflab::plugins::classifier>("classifier");
    reg.add<difflab::plugins::unet3d>("unet3d");
}
