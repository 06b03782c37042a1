// SPDX-License-Identifier: Apache-2.0
// Euler-Maruyama integration of the reverse-time SDE.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

namespace difflab::plugins {

/// The reverse-time SDE of Anderson (1982) as Song et al. 2021 use it (eq. 6),
///     dx = [f(t) x - g(t)^2 score(x, t)] dt + g(t) dw,  t running from t_max down to t_min,
/// integrated with Euler-Maruyama steps x_s = x + (f x - g^2 score)(s - t) + g sqrt(t - s) z,
/// then the denoised estimate at t_min (score_sde's noise removal). Evaluations: `steps`.
class euler_maruyama_sampler final : public grid_sampler {
public:
    struct options : grid_options {
        options() : grid_options{1000} {}
    };
    static param_spec<options> params();
    euler_maruyama_sampler(const options& opts, build_context& ctx);

private:
    tensor update(const grid_step& step) const override;
};

}  // namespace difflab::plugins
