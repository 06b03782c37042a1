// SPDX-License-Identifier: Apache-2.0
// Registers DDRM, restoration by denoising diffusion in the spectral space of a measurement
// (Kawar, Elad, Ermon & Song 2022, "Denoising diffusion restoration models").
#include <difflab/plugin/plugin.h>

#include "ddrm_sampler.h"

DIFFLAB_PLUGIN(ddrm, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::ddrm_sampler>("ddrm");
}
