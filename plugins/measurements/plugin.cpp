// SPDX-License-Identifier: Apache-2.0
// Registers the linear measurement operators: masks for inpainting (Lugmayr et al. 2022, RePaint),
// block averaging and resizing for super-resolution (Saharia et al. 2022, SR3; Choi et al. 2021,
// ILVR), Gaussian blur and the identity for deblurring and denoising (Kawar et al. 2022, DDRM).
#include <difflab/plugin/plugin.h>

#include "block_average_measurement.h"
#include "blur_measurement.h"
#include "identity_measurement.h"
#include "mask_measurement.h"
#include "resize_measurement.h"

DIFFLAB_PLUGIN(measurements, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::identity_measurement>("identity");
    reg.add<difflab::plugins::mask_measurement>("mask");
    reg.add<difflab::plugins::block_average_measurement>("block_average");
    reg.add<difflab::plugins::resize_measurement>("resize");
    reg.add<difflab::plugins::blur_measurement>("blur");
}
