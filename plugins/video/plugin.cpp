// SPDX-License-Identifier: Apache-2.0
// Registers the video task (Ho et al. 2022, Video Diffusion Models; Höppe et al. 2022, RaMViD).
#include <difflab/plugin/plugin.h>

#include "video_task.h"

DIFFLAB_PLUGIN(video, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::video_task>("video");
}
