// SPDX-License-Identifier: Apache-2.0
// The DDIM sampler (Song, Meng & Ermon 2021).
#include "ddim_sampler.h"

#include <difflab/autograd.h>
#include <difflab/ops.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

param_spec<ddim_sampler::options> ddim_sampler::params() {
    param_spec<options> spec{"DDIM sampler (Song et al. 2021); eta interpolates to ancestral DDPM."};
    spec.add(&options::steps, "steps", "Number of denoising steps (= network evaluations).", at_least<std::int64_t>(1));
    spec.add(&options::eta, "eta", "Stochasticity: 0 deterministic, 1 ancestral.", closed_range(0.0, 1.0));
    spec.add(&options::spacing, "spacing", "Time grid.", one_of(time_grid_spacings()));
    return spec;
}

ddim_sampler::ddim_sampler(const options& opts, build_context&) : opts_(opts) {}

tensor ddim_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    no_grad_guard no_grad;
    const process& p = d.diffusion_process();
    const std::vector<double> grid = time_grid(p, opts_.steps, opts_.spacing);
    for (std::size_t i = 0; i < grid.size(); ++i) {
        const double t = grid[i];
        const tensor x0 = d.x0(x, t);
        if (i + 1 == grid.size()) return x0;  // the last step lands on clean data
        const double s = grid[i + 1];
        const double a_t = p.alpha(t), sigma_t = p.sigma(t), a_s = p.alpha(s), sigma_s = p.sigma(s);
        const tensor eps = eps_from_x0(p, x, x0, t);
        const double ratio = a_t / a_s;
        const double sigma_ts = std::sqrt(std::max(sigma_t * sigma_t - ratio * ratio * sigma_s * sigma_s, 0.0));
        const double c = opts_.eta * sigma_s / sigma_t * sigma_ts;
        const double eps_scale = std::sqrt(std::max(sigma_s * sigma_s - c * c, 0.0));
        x = x0 * static_cast<float>(a_s) + eps * static_cast<float>(eps_scale);
        if (c > 0) x = x + ctx.noise_like(x, i) * static_cast<float>(c);
    }
    return x;
}

}  // namespace difflab::plugins
