// SPDX-License-Identifier: Apache-2.0
// k-diffusion's Euler ancestral sampler, written outside difflab.
#include "euler_ancestral_sampler.h"

#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>

namespace euler_ancestral {

difflab::param_spec<euler_ancestral_sampler::options> euler_ancestral_sampler::params() {
    difflab::param_spec<options> spec{"Euler ancestral sampler (k-diffusion; Karras et al. 2022)."};
    difflab::add_grid_options(spec, "Number of noise levels (= network evaluations).",
                              "Time grid (karras is k-diffusion's).");
    spec.add(&options::eta, "eta", "Ancestral noise: 0 deterministic Euler, 1 k-diffusion's default.",
             difflab::closed_range(0.0, 1.0));
    return spec;
}

difflab::tensor euler_ancestral_sampler::update(const difflab::grid_step& step) const {
    // Every process in sigma space (Karras et al. eq. 7): x_hat = x / alpha has noise level
    // sigma / alpha, and the denoised estimate x0 at t is D(x_hat; level).
    const double level = difflab::noise_level(step.p, step.t), next = difflab::noise_level(step.p, step.s);
    const double up = std::min(next, opts_.eta * next * std::sqrt(1.0 - next * next / (level * level)));
    const double down = std::sqrt(next * next - up * up);
    const difflab::tensor x_hat = step.x / step.p.alpha(step.t);
    const difflab::tensor slope = (x_hat - step.x0) / level;
    return (x_hat + slope * (down - level) + step.noise() * up) * step.p.alpha(step.s);
}

}  // namespace euler_ancestral
