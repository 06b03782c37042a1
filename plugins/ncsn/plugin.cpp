// SPDX-License-Identifier: Apache-2.0
// Registers the NCSN process and annealed Langevin dynamics (Song & Ermon 2019).
#include <difflab/plugin/plugin.h>

#include "annealed_langevin_sampler.h"
#include "ncsn_process.h"

DIFFLAB_PLUGIN(ncsn, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::ncsn_process>("ncsn");
    reg.add<difflab::plugins::annealed_langevin_sampler>("annealed_langevin");
}
