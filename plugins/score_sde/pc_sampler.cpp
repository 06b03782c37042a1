// SPDX-License-Identifier: Apache-2.0
// Predictor-corrector sampling (Song et al. 2021, Algorithms 2-3).
#include "pc_sampler.h"

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>

#include <cmath>
#include <optional>
#include <vector>

#include "reverse_sde_steps.h"

namespace difflab::plugins {

namespace {

/// The Euclidean norm of each sample (row along dim 0), accumulated in double.
std::vector<double> sample_norms(const tensor& t) {
    const tensor dense = t.contiguous();
    const std::int64_t rows = dense.size(0), row_size = rows == 0 ? 0 : dense.numel() / rows;
    const float* data = dense.data<float>();
    std::vector<double> norms(static_cast<std::size_t>(rows));
    for (std::int64_t r = 0; r < rows; ++r) {
        double square = 0;
        for (std::int64_t k = 0; k < row_size; ++k) {
            const double v = data[r * row_size + k];
            square += v * v;
        }
        norms[static_cast<std::size_t>(r)] = std::sqrt(square);
    }
    return norms;
}

/// One Langevin corrector step at time t (score_sde's LangevinCorrector with per-sample norms,
/// or with their expectations when `expected_ratio` (||z|| / ||score|| = sigma(t)) is given).
tensor langevin_step(const tensor& x, const tensor& score, const tensor& z, double snr, double a,
                     std::optional<double> expected_ratio) {
    const std::vector<double> score_norm = sample_norms(score), noise_norm = sample_norms(z);
    std::vector<float> step(score_norm.size()), noise_scale(score_norm.size());
    for (std::size_t r = 0; r < step.size(); ++r) {
        // A zero score (x exactly at the mode) gives no direction to step in: leave the sample.
        const double ratio = expected_ratio      ? snr * *expected_ratio
                             : score_norm[r] > 0 ? snr * noise_norm[r] / score_norm[r]
                                                 : 0.0;
        const double size = 2 * a * ratio * ratio;
        step[r] = static_cast<float>(size);
        noise_scale[r] = static_cast<float>(std::sqrt(2 * size));
    }
    shape_t per_sample(static_cast<std::size_t>(x.dim()), 1);  // [N, 1, ..., 1] broadcasts over each sample
    per_sample[0] = x.size(0);
    return x + score * tensor::from_vector(per_sample, step) + z * tensor::from_vector(per_sample, noise_scale);
}

}  // namespace

param_spec<pc_sampler::options> pc_sampler::params() {
    param_spec<options> spec{"Predictor-corrector sampler of the reverse SDE (Song et al. 2021, Algorithms 2-3)."};
    add_grid_options(spec,
                     "Number of grid times (the default 500 with one corrector step spends 1000 evaluations, as "
                     "sampler/euler_maruyama's default 1000 steps).");
    spec.add(&options::predictor, "predictor",
             "Step between grid times: reverse_diffusion (score_sde's ancestral step), euler_maruyama, or none "
             "(corrector only).",
             one_of({"reverse_diffusion", "euler_maruyama", "none"}));
    spec.add(&options::corrector, "corrector", "MCMC at each grid time: langevin, or none (predictor only).",
             one_of({"langevin", "none"}));
    spec.add(&options::corrector_steps, "corrector_steps", "Corrector steps at each grid time.",
             at_least<std::int64_t>(1));
    spec.add(&options::snr, "snr",
             "Signal-to-noise ratio r of the Langevin corrector, step = 2 a (r ||z|| / ||score||)^2 per sample "
             "(0.16: score_sde's CIFAR-10 value).",
             greater_than(0.0));
    spec.add(&options::norms, "norms",
             "Norms in the corrector step: sample (per sample, as Song et al. write it; for images) or expected "
             "(||z||^2 = D, ||score||^2 = D / sigma^2: step = 2 a (snr sigma)^2, stable in a few dimensions).",
             one_of({"sample", "expected"}));
    return spec;
}

pc_sampler::pc_sampler(const options& opts, build_context&) : opts_(opts) {}

std::int64_t pc_sampler::evaluations(const process&) const {
    const std::int64_t corrector = opts_.corrector == "none" ? 0 : opts_.steps * opts_.corrector_steps;
    const std::int64_t predictor = opts_.predictor == "none" ? 0 : opts_.steps - 1;
    return corrector + predictor + 1;
}

tensor pc_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    const process& p = d.diffusion_process();
    no_grad_guard no_grad;
    const std::vector<double> grid = time_grid(p, opts_.steps, opts_.spacing);
    const std::size_t n = grid.size();
    const bool correct = opts_.corrector != "none";
    const auto corrector_steps = static_cast<std::uint64_t>(opts_.corrector_steps);
    // (alpha(t) / alpha(s))^2 of the step from grid time i to the next one.
    const auto signal_ratio = [&](std::size_t i) {
        const double ratio = p.alpha(grid[i]) / p.alpha(grid[i + 1]);
        return ratio * ratio;
    };
    for (std::size_t i = 0; i < n; ++i) {
        const double t = grid[i];
        const std::uint64_t first_draw = i * (corrector_steps + 1);  // corrector draws, then the predictor's
        if (correct) {
            const double a = i + 1 < n ? signal_ratio(i) : n > 1 ? signal_ratio(i - 1) : 1.0;
            for (std::uint64_t j = 0; j < corrector_steps; ++j)
                x = langevin_step(x, d.score(x, t), ctx.noise_like(x, first_draw + j), opts_.snr, a,
                                  opts_.norms == "expected" ? std::optional<double>(p.sigma(t)) : std::nullopt);
        }
        if (i + 1 == n || opts_.predictor == "none") continue;
        const tensor score = d.score(x, t), z = ctx.noise_like(x, first_draw + corrector_steps);
        x = opts_.predictor == "reverse_diffusion" ? reverse_diffusion_step(p, x, score, t, grid[i + 1], z)
                                                   : euler_maruyama_step(p, x, score, t, grid[i + 1], z);
    }
    return d.x0(x, grid.back());
}

}  // namespace difflab::plugins
