// SPDX-License-Identifier: Apache-2.0
// Ancestral DDPM sampling.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>

namespace difflab::plugins {

/// Ancestral sampling (Ho et al. 2020, Algorithm 2) on any time grid (respaced as in Nichol &
/// Dhariwal 2021): from x_t draw x_s ~ N(mu, var) with the posterior mean of q(x_s | x_t, x0)
///     mu = alpha_s sigma_{t|s}^2 / sigma_t^2 x0 + alpha_{t|s} sigma_s^2 / sigma_t^2 x_t,
/// alpha_{t|s} = alpha_t / alpha_s, sigma_{t|s}^2 = sigma_t^2 - alpha_{t|s}^2 sigma_s^2, and the
/// variance fixed small (the posterior's, sigma_{t|s}^2 sigma_s^2 / sigma_t^2: equal to DDIM
/// with eta = 1) or fixed large (sigma_{t|s}^2, Ho et al.'s other choice).
class ancestral_sampler final : public grid_sampler {
public:
    struct options : grid_options {
        options() : grid_options{1000} {}
        std::string variance = "small";
    };
    static param_spec<options> params();
    ancestral_sampler(const options& opts, build_context& ctx);

private:
    tensor update(const grid_step& step) const override;
    options opts_;
};

}  // namespace difflab::plugins
