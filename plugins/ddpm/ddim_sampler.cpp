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
    spec.add(&options::steps, "steps", "Number of denoising steps (= network evaluations).", at_least<std::int64_t>(1));
    spec.add(&options::eta, "eta", "Stochasticity: 0 deterministic, 1 ancestral.", closed_range(0.0, 1.0));
    spec.add(&options::spacing, "spacing", "Time grid.", one_of(time_grid_spacings()));
    return spec;
}

ddim_sampler::ddim_sampler(const options& opts, build_context&) : opts_(opts) {}

tensor ddim_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    const process& p = d.diffusion_process();
    return denoise_along(
        d, std::move(x), time_grid(p, opts_.steps, opts_.spacing),
        [&](const tensor& x_t, const tensor& x0, double t, double s, std::size_t i) {
            const double a_t = p.alpha(t), sigma_t = p.sigma(t), a_s = p.alpha(s), sigma_s = p.sigma(s);
            const double ratio = a_t / a_s;
            const double sigma_ts = std::sqrt(std::max(sigma_t * sigma_t - ratio * ratio * sigma_s * sigma_s, 0.0));
            const double c = opts_.eta * sigma_s / sigma_t * sigma_ts;
            const double eps_scale = std::sqrt(std::max(sigma_s * sigma_s - c * c, 0.0));
            tensor next = x0 * static_cast<float>(a_s) + eps_from_x0(p, x_t, x0, t) * static_cast<float>(eps_scale);
            return c > 0 ? next + ctx.noise_like(x_t, i) * static_cast<float>(c) : next;
        });
}

tensor ddim_sampler::invert(const denoiser& d, tensor x0) const {
    no_grad_guard no_grad;
    const process& p = d.diffusion_process();
    std::vector<double> grid = time_grid(p, opts_.steps, opts_.spacing);
    std::reverse(grid.begin(), grid.end());  // t_min up to t_max
    const double first = grid.front();
    tensor x = x0 * static_cast<float>(p.alpha(first)) + d.eps(x0, first) * static_cast<float>(p.sigma(first));
    for (std::size_t i = 0; i + 1 < grid.size(); ++i) {
        const double t = grid[i], s = grid[i + 1];
        const double a_t = p.alpha(t), a_s = p.alpha(s);
        const tensor eps = d.eps(x, t);
        x = x * static_cast<float>(a_s / a_t) + eps * static_cast<float>(p.sigma(s) - a_s * p.sigma(t) / a_t);
    }
    return x;
}

}  // namespace difflab::plugins
