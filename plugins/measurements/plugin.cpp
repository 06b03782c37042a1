// SPDX-License-Identifier: Apache-2.0
// Registers the linear measurement operators: masks for inpainting (Lugmayr et al. 2022, RePaint),
// block averaging for super-resolution (Saharia et al. 2022, SR3) and the identity for denoising
// (Kawar et al. 2022, DDRM).
#include <difflab/plugin/plugin.h>

#include "block_average_measurement.h"
#include "identity_measurement.h"
#include "mask_measurement.h"

DIFFLAB_PLUGIN(measurements, "0.1.0", reg) {
    reg.add<difflab::plugins::identity_measurement>("identity");
    reg.add<difflab::plugins::mask_measurement>("mask");
    reg.add<difflab::plugins::block_average_measurement>("block_average");
}
