// SPDX-License-Identifier: Apache-2.0
// Registers anomaly detection with diffusion models: simplex noise (Wyatt et al. 2022, AnoDDPM).
#include <difflab/plugin/plugin.h>

#include "simplex_noise.h"

DIFFLAB_PLUGIN(anomaly, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::simplex_noise>("simplex");
}
