// SPDX-License-Identifier: Apache-2.0
// k-diffusion's Euler ancestral sampler, written outside difflab.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/registry.h>

namespace euler_ancestral {

/// Euler ancestral sampling (k-diffusion's sample_euler_ancestral, on the sigma-space ODE of
/// Karras et al. 2022, "Elucidating the design space of diffusion-based generative models"):
/// from noise level sigma to the next, sigma_next, split sigma_next^2 = sigma_down^2 +
/// sigma_up^2 with sigma_up = min(sigma_next, eta sigma_next sqrt(1 - sigma_next^2 / sigma^2)),
/// take an Euler step of dx/dsigma = (x - D(x; sigma)) / sigma down to sigma_down, then add
/// fresh noise of scale sigma_up. eta = 0 is the deterministic Euler sampler.
class euler_ancestral_sampler final : public difflab::grid_sampler {
public:
    struct options : difflab::grid_options {
        options() : grid_options{20, "karras"} {}
        double eta = 1.0;
    };
    static difflab::param_spec<options> params();
    euler_ancestral_sampler(const options& opts, difflab::build_context&) : grid_sampler(opts), opts_(opts) {}
    bool deterministic() const override { return opts_.eta == 0; }

private:
    difflab::tensor update(const difflab::grid_step& step) const override;
    options opts_;
};

}  // namespace euler_ancestral
