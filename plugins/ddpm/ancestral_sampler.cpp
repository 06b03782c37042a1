// SPDX-License-Identifier: Apache-2.0
// Ancestral DDPM sampling (Ho et al. 2020).
#include "ancestral_sampler.h"

#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

param_spec<ancestral_sampler::options> ancestral_sampler::params() {
    param_spec<options> spec{"Ancestral DDPM sampler (Ho et al. 2020) with fixed small or large variance."};
    spec.add(&options::steps, "steps", "Number of denoising steps (= network evaluations).", at_least<std::int64_t>(1));
    spec.add(&options::variance, "variance", "Reverse variance: the posterior's (small) or sigma_{t|s}^2 (large).",
             one_of({"small", "large"}));
    spec.add(&options::spacing, "spacing", "Time grid.", one_of(time_grid_spacings()));
    return spec;
}

ancestral_sampler::ancestral_sampler(const options& opts, build_context&) : opts_(opts) {}

tensor ancestral_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    const process& p = d.diffusion_process();
    return denoise_along(d, std::move(x), time_grid(p, opts_.steps, opts_.spacing),
                         [&](const tensor& x_t, const tensor& x0, double t, double s, std::size_t i) {
                             const double a_t = p.alpha(t), sigma_t = p.sigma(t), a_s = p.alpha(s),
                                          sigma_s = p.sigma(s);
                             const double a_ts = a_t / a_s;
                             const double var_ts = std::max(sigma_t * sigma_t - a_ts * a_ts * sigma_s * sigma_s, 0.0);
                             const double ratio = sigma_s * sigma_s / (sigma_t * sigma_t);
                             const double variance = opts_.variance == "small" ? var_ts * ratio : var_ts;
                             return x0 * static_cast<float>(a_s * var_ts / (sigma_t * sigma_t)) +
                                    x_t * static_cast<float>(a_ts * ratio) +
                                    ctx.noise_like(x_t, i) * static_cast<float>(std::sqrt(variance));
                         });
}

}  // namespace difflab::plugins
