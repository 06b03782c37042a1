// SPDX-License-Identifier: Apache-2.0
// The DDIM sampler (Song, Meng & Ermon 2021).
#include "ddim_sampler.h"

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace difflab::plugins {

param_spec<ddim_sampler::options> ddim_sampler::params() {
    param_spec<options> spec{"DDIM sampler (Song et al. 2021); eta interpolates to ancestral DDPM."};
    add_grid_options(spec);
    spec.add(&options::eta, "eta", "Stochasticity: 0 deterministic, 1 ancestral.", closed_range(0.0, 1.0));
    return spec;
}

ddim_sampler::ddim_sampler(const options& opts, build_context&) : grid_sampler(opts), opts_(opts) {}

tensor ddim_sampler::update(const grid_step& step) const {
    const process& p = step.p;
    const double a_t = p.alpha(step.t), sigma_t = p.sigma(step.t), a_s = p.alpha(step.s), sigma_s = p.sigma(step.s);
    const double ratio = a_t / a_s;
    const double sigma_ts = std::sqrt(std::max(sigma_t * sigma_t - ratio * ratio * sigma_s * sigma_s, 0.0));
    const double c = opts_.eta * sigma_s / sigma_t * sigma_ts;
    const double eps_scale = std::sqrt(std::max(sigma_s * sigma_s - c * c, 0.0));
    tensor next = step.x0 * a_s + eps_from_x0(p, step.x, step.x0, step.t) * eps_scale;
    return c > 0 ? next + step.noise() * c : next;
}

tensor ddim_sampler::invert(const denoiser& d, tensor x0) const {
    no_grad_guard no_grad;
    const process& p = d.diffusion_process();
    std::vector<double> times = this->times(p, p.t_max());
    std::reverse(times.begin(), times.end());  // t_min up to t_max
    const double first = times.front();
    tensor x = x0 * p.alpha(first) + d.eps(x0, first) * p.sigma(first);
    for (std::size_t i = 0; i + 1 < times.size(); ++i) {
        const double t = times[i], s = times[i + 1];
        const double a_t = p.alpha(t), a_s = p.alpha(s);
        const tensor eps = d.eps(x, t);
        x = x * (a_s / a_t) + eps * (p.sigma(s) - a_s * p.sigma(t) / a_t);
    }
    return x;
}

}  // namespace difflab::plugins
