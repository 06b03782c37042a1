// SPDX-License-Identifier: Apache-2.0
// Annealed Langevin dynamics over decreasing noise levels.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Annealed Langevin dynamics (Song & Ermon 2019, "Generative modeling by estimating gradients
/// of the data distribution", Algorithm 1): at each noise level sigma_i of the time grid, from
/// the largest down, run T = steps_each Langevin steps
///     x <- x + alpha_i / 2 * score(x, t_i) + sqrt(alpha_i) z,   alpha_i = epsilon sigma_i^2 / sigma_L^2,
/// with sigma_L the smallest level used; then (denoise: true) return the denoised estimate at
/// the last level, the extra step that Song & Ermon 2020 and Jolicoeur-Martineau et al. 2021
/// found to matter for sample quality. Defined for variance-exploding processes only
/// (x = x0 + sigma z: ncsn, ve_sde, edm). Evaluations: steps * steps_each (+ 1 with denoise).
class annealed_langevin_sampler final : public sampler {
public:
    struct options : grid_options {
        options() : grid_options{10} {}
        std::int64_t steps_each = 100;
        double step_size = 2e-5;
        bool denoise = true;
    };
    static param_spec<options> params();
    annealed_langevin_sampler(const options& opts, build_context& ctx);

    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process& p) const override;
    /// Refuses processes with alpha != 1, pointing to the PC sampler's Langevin corrector.
    void check(const process& p) const override;

private:
    options opts_;
};

}  // namespace difflab::plugins
