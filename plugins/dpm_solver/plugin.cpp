// SPDX-License-Identifier: Apache-2.0
// Registers DPM-Solver and DPM-Solver++ (Lu et al. 2022).
#include <difflab/plugin/plugin.h>

#include "dpm_solver.h"

DIFFLAB_PLUGIN(dpm_solver, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::dpm_solver>("dpm_solver");
    reg.add<difflab::plugins::dpm_solver_pp>("dpm_solver_pp");
}
