// SPDX-License-Identifier: Apache-2.0
// The EDM sampler (Karras et al. 2022, Algorithm 2).
#include "edm_sampler.h"

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

param_spec<edm_sampler::options> edm_sampler::params() {
    param_spec<options> spec{"EDM sampler (Karras et al. 2022, Algorithm 2): Heun steps with optional churn."};
    add_grid_options(spec, "Number of noise levels N (2N - 1 evaluations without churn).",
                     "Time grid (karras is the paper's).");
    spec.add(&options::s_churn, "s_churn", "Total churn S_churn (0: deterministic).", at_least(0.0));
    spec.add(&options::s_min, "s_min", "Lowest noise level that gets churn.", at_least(0.0));
    spec.add(&options::s_max, "s_max", "Highest noise level that gets churn.", at_least(0.0));
    spec.add(&options::s_noise, "s_noise", "Scale of the churn noise S_noise.", at_least(0.0));
    return spec;
}

edm_sampler::edm_sampler(const options& opts, build_context&) : opts_(opts) {}

tensor edm_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    no_grad_guard no_grad;
    const process& p = d.diffusion_process();
    const std::vector<double> grid = time_grid(p, opts_.steps, opts_.spacing);
    std::vector<double> levels;  // sigma / alpha, then 0 for clean data
    for (double t : grid) levels.push_back(noise_level(p, t));
    levels.push_back(0.0);

    tensor x_hat = x * (1.0 / p.alpha(grid.front()));
    const double n = static_cast<double>(opts_.steps);
    for (std::size_t i = 0; i + 1 < levels.size(); ++i) {
        const double level = levels[i], next = levels[i + 1];
        const bool churn = opts_.s_churn > 0 && level >= opts_.s_min && level <= opts_.s_max;
        const double gamma = churn ? std::min(opts_.s_churn / n, std::sqrt(2.0) - 1.0) : 0.0;
        const double raised = level * (1.0 + gamma);
        if (gamma > 0)
            x_hat = x_hat + ctx.noise_like(x_hat, i) * (opts_.s_noise * std::sqrt(raised * raised - level * level));
        const tensor slope = (x_hat - denoise_at_level(d, x_hat, raised)) * (1.0 / raised);
        tensor stepped = x_hat + slope * (next - raised);
        if (next > 0) {  // Heun's correction (the last step, to clean data, stays Euler)
            const tensor slope_next = (stepped - denoise_at_level(d, stepped, next)) * (1.0 / next);
            stepped = x_hat + (slope + slope_next) * (0.5 * (next - raised));
        }
        x_hat = stepped;
    }
    return x_hat;
}

}  // namespace difflab::plugins
