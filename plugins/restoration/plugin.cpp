// SPDX-License-Identifier: Apache-2.0
// Registers restoration of real images from linear measurements (Kawar et al. 2022, DDRM).
#include <difflab/plugin/plugin.h>

#include "restoration_task.h"

DIFFLAB_PLUGIN(restoration, DIFFLAB_VERSION, reg) { reg.add<difflab::plugins::restoration_task>("restoration"); }
