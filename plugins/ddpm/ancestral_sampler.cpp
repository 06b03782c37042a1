// SPDX-License-Identifier: Apache-2.0
// Ancestral DDPM sampling (Ho et al. 2020).
#include "ancestral_sampler.h"

#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

param_spec<ancestral_sampler::options> ancestral_sampler::params() {
    param_spec<options> spec{"Ancestral DDPM sampler (Ho et al. 2020) with fixed small or large variance."};
    add_grid_options(spec);
    spec.add(&options::variance, "variance", "Reverse variance: the posterior's (small) or sigma_{t|s}^2 (large).",
             one_of({"small", "large"}));
    return spec;
}

ancestral_sampler::ancestral_sampler(const options& opts, build_context&) : grid_sampler(opts), opts_(opts) {}

tensor ancestral_sampler::update(const grid_step& step) const {
    const process& p = step.p;
    const double a_t = p.alpha(step.t), sigma_t = p.sigma(step.t), a_s = p.alpha(step.s), sigma_s = p.sigma(step.s);
    const double a_ts = a_t / a_s;
    const double var_ts = std::max(sigma_t * sigma_t - a_ts * a_ts * sigma_s * sigma_s, 0.0);
    const double ratio = sigma_s * sigma_s / (sigma_t * sigma_t);
    const double variance = opts_.variance == "small" ? var_ts * ratio : var_ts;
    return step.x0 * (a_s * var_ts / (sigma_t * sigma_t)) + step.x * (a_ts * ratio) +
           step.noise() * std::sqrt(variance);
}

}  // namespace difflab::plugins
