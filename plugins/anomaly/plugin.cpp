// SPDX-License-Identifier: Apache-2.0
// Registers anomaly detection with diffusion models: simplex noise and reconstruction-based
// detection (Wyatt et al. 2022, AnoDDPM; Graham et al. 2023).
#include <difflab/plugin/plugin.h>

#include "anomaly_detection_task.h"
#include "ood_detection_task.h"
#include "simplex_noise.h"

DIFFLAB_PLUGIN(anomaly, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::simplex_noise>("simplex");
    reg.add<difflab::plugins::anomaly_detection_task>("anomaly_detection");
    reg.add<difflab::plugins::ood_detection_task>("ood_detection");
}
