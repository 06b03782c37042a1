// SPDX-License-Identifier: Apache-2.0
// Registers the DDPM process, its Gaussian noise and sampler family (Ho et al. 2020; Nichol &
// Dhariwal 2021; Song et al. 2021, DDIM; Liu et al. 2022, PNDM).
#include <difflab/plugin/plugin.h>

#include "ancestral_sampler.h"
#include "ddim_sampler.h"
#include "ddpm_process.h"
#include "gaussian_noise.h"
#include "plms_sampler.h"

DIFFLAB_PLUGIN(ddpm, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::ddpm_process>("ddpm");
    reg.add<difflab::plugins::gaussian_noise>("gaussian");
    reg.add<difflab::plugins::ddim_sampler>("ddim");
    reg.add<difflab::plugins::ancestral_sampler>("ddpm");
    reg.add<difflab::plugins::plms_sampler>("plms");
}
