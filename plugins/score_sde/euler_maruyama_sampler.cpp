// SPDX-License-Identifier: Apache-2.0
// Euler-Maruyama integration of the reverse-time SDE (Song et al. 2021).
#include "euler_maruyama_sampler.h"

#include "reverse_sde_steps.h"

namespace difflab::plugins {

param_spec<euler_maruyama_sampler::options> euler_maruyama_sampler::params() {
    param_spec<options> spec{"Euler-Maruyama solver of the reverse-time SDE (Song et al. 2021)."};
    spec.add(&options::steps, "steps", "Number of time points (= network evaluations).", at_least<std::int64_t>(1));
    spec.add(&options::spacing, "spacing", "Time grid.", one_of(time_grid_spacings()));
    return spec;
}

euler_maruyama_sampler::euler_maruyama_sampler(const options& opts, build_context&) : opts_(opts) {}

tensor euler_maruyama_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    const process& p = d.diffusion_process();
    return denoise_along(d, std::move(x), time_grid(p, opts_.steps, opts_.spacing),
                         [&](const tensor& x_t, const tensor& x0, double t, double s, std::size_t i) {
                             return euler_maruyama_step(p, x_t, score_from_x0(p, x_t, x0, t), t, s,
                                                        ctx.noise_like(x_t, i));
                         });
}

}  // namespace difflab::plugins
