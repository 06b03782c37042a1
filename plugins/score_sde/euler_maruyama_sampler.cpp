// SPDX-License-Identifier: Apache-2.0
// Euler-Maruyama integration of the reverse-time SDE (Song et al. 2021).
#include "euler_maruyama_sampler.h"

#include "reverse_sde_steps.h"

namespace difflab::plugins {

param_spec<euler_maruyama_sampler::options> euler_maruyama_sampler::params() {
    param_spec<options> spec{"Euler-Maruyama solver of the reverse-time SDE (Song et al. 2021)."};
    add_grid_options(spec, "Number of time points (= network evaluations).");
    return spec;
}

euler_maruyama_sampler::euler_maruyama_sampler(const options& opts, build_context&) : grid_sampler(opts) {}

tensor euler_maruyama_sampler::update(const grid_step& step) const {
    const tensor score = score_from_x0(step.p, step.x, step.x0, step.t);
    return euler_maruyama_step(step.p, step.x, score, step.t, step.s, step.noise());
}

}  // namespace difflab::plugins
