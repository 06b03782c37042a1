// SPDX-License-Identifier: Apache-2.0
// Predictor-corrector sampling of the reverse-time SDE.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Predictor-corrector samplers (Song et al. 2021, "Score-based generative modeling through
/// stochastic differential equations", Algorithms 2-3). At each grid time t_i, from t_max down:
/// `corrector_steps` Langevin corrector steps at t_i (score-based MCMC towards p_{t_i}), then,
/// unless t_i is the last time, one predictor step of the reverse SDE to t_{i+1}; finally the
/// denoised estimate at the last time. Predictors: `reverse_diffusion` (score_sde's
/// ReverseDiffusionPredictor, the ancestral step of the discretized forward process),
/// `euler_maruyama` (as sampler/euler_maruyama), or `none` (corrector only: annealed Langevin
/// dynamics on any process). The Langevin corrector sets its step from the signal-to-noise ratio
/// `snr` of score_sde's LangevinCorrector,
///     step = 2 a (snr ||z|| / ||score||)^2,   x <- x + step score + sqrt(2 step) z,
/// with a = (alpha(t_i) / alpha(t_{i+1}))^2 (score_sde's 1 - beta_i for VP, 1 for VE; at the last
/// time the previous step's ratio, 1 on a one-point grid), and with norms per sample, not averaged
/// over the batch as in score_sde, so that a sample does not depend on the others in its batch
/// (a sample whose score is exactly zero is left where it is). Per-sample norms concentrate in
/// image dimensions but not in a few: in 2-D, ||z|| / ||score|| is heavy-tailed and samples near
/// a mode take huge steps, so `norms: expected` replaces both by their expectations,
/// ||z||^2 = D and ||score||^2 = D / sigma(t)^2 (Fisher information of the added noise), i.e.
/// step = 2 a (snr sigma(t))^2, the same for every sample. With an exact Gaussian score the
/// corrector settles at variance m (1 + a snr^2) for the marginal variance m: its own bias.
/// Evaluations: steps * corrector_steps (with a corrector) + steps - 1 (with a predictor) + 1.
class pc_sampler final : public sampler {
public:
    struct options : grid_options {
        options() : grid_options{500} {}
        std::string predictor = "reverse_diffusion";
        std::string corrector = "langevin";
        std::int64_t corrector_steps = 1;
        double snr = 0.16;
        std::string norms = "sample";
    };
    static param_spec<options> params();
    pc_sampler(const options& opts, build_context& ctx);

    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process& p) const override;

private:
    options opts_;
};

}  // namespace difflab::plugins
