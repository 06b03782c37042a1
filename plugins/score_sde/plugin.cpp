// SPDX-License-Identifier: Apache-2.0
// Registers the SDE processes of Song et al. 2021 (score_sde), VP, sub-VP and VE, and its
// samplers: the probability-flow ODE, Euler-Maruyama and predictor-corrector; and the metric nll_bpd.
#include <difflab/plugin/plugin.h>

#include "euler_maruyama_sampler.h"
#include "nll_bpd_metric.h"
#include "ode_sampler.h"
#include "pc_sampler.h"
#include "sde_processes.h"

DIFFLAB_PLUGIN(score_sde, DIFFLAB_VERSION, reg) {
    reg.add<difflab::plugins::vp_sde>("vp_sde");
    reg.add<difflab::plugins::subvp_sde>("subvp_sde");
    reg.add<difflab::plugins::ve_sde>("ve_sde");
    reg.add<difflab::plugins::ode_sampler>("ode");
    reg.add<difflab::plugins::euler_maruyama_sampler>("euler_maruyama");
    reg.add<difflab::plugins::pc_sampler>("pc");
    reg.add<difflab::plugins::nll_bpd_metric>("nll_bpd");
}
