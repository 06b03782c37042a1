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
class ancestral_sampler final : public sampler {
public:
    struct options {
        std::int64_t steps = 1000;
        std::string variance = "small";
        std::string spacing = "uniform";
    };
    static param_spec<options> params();
    ancestral_sampler(const options& opts, build_context& ctx);

    tensor sample(const denoiser& d, tensor x, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process&) const override { return opts_.steps; }

private:
    options opts_;
};

}  // namespace difflab::plugins
