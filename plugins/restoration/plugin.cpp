// SPDX-License-Identifier: Apache-2.0
// Registers restoration of real images from linear measurements: DDRM and the pseudo-inverse
// (Kawar et al. 2022), and super-resolution by SR3 (Saharia et al. 2022), ILVR (Choi et al.
// 2021), DDRM, bicubic upsampling and a regression network.
#include <difflab/plugin/plugin.h>

#include "restoration_task.h"
#include "super_resolution_task.h"

DIFFLAB_PLUGIN(restoration, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::restoration_task>("restoration");
    reg.add<difflab::plugins::super_resolution_task>("super_resolution");
}
