// SPDX-License-Identifier: Apache-2.0
// Registers segmentation with diffusion models: the fashion_scenes data and the segmentation task
// (Baranchuk et al. 2022; Wolleb et al. 2022).
#include <difflab/plugin/plugin.h>

#include "fashion_scenes_dataset.h"
#include "segmentation_ensemble_task.h"
#include "segmentation_task.h"

DIFFLAB_PLUGIN(segmentation, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::fashion_scenes_dataset>("fashion_scenes");
    reg.add<difflab::plugins::segmentation_task>("segmentation");
    reg.add<difflab::plugins::segmentation_ensemble_task>("segmentation_ensemble");
}
