// SPDX-License-Identifier: Apache-2.0
// Registers the DDPM process (Ho et al. 2020; Nichol & Dhariwal 2021).
#include <difflab/plugin.h>

#include "ddpm_process.h"

DIFFLAB_PLUGIN(ddpm, "0.1.0", reg) {
    reg.add<difflab::plugins::ddpm_process>("ddpm");
}
