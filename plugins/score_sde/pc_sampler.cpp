// SPDX-License-Identifier: Apache-2.0
// Predictor-corrector sampling (Song et al. 2021, Algorithms 2-3).
#include "pc_sampler.h"

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

std::vector<double> pc_sampler::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

namespace {

/// Corrector then predictor at each path step; the corrector runs once more at the last time.
class pc_run final : public sampler_run {
public:
    pc_run(const denoiser& d, const pc_sampler::options& o, const sampling_context& ctx) : d_(d), o_(o), ctx_(ctx) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t index) override {
        const process& p = d_.diffusion_process();
        // a = (alpha(t) / alpha(s))^2 of this step: score_sde's corrector step-size factor.
        const double ratio = p.alpha(step.from) / p.alpha(step.to);
        signal_ratio_ = ratio * ratio;
        tensor out = correct(x, step.from, index);
        if (o_.predictor == "none") return out;
        const tensor score = d_.score(out, step.from), z = ctx_.noise_like(out, index * draws() + corrector_steps());
        return o_.predictor == "reverse_diffusion" ? reverse_diffusion_step(p, out, score, step.from, step.to, z)
                                                   : euler_maruyama_step(p, out, score, step.from, step.to, z);
    }
    tensor finish(const tensor& x, double t, std::uint64_t index) override { return d_.x0(correct(x, t, index), t); }

private:
    std::uint64_t corrector_steps() const { return static_cast<std::uint64_t>(o_.corrector_steps); }
    /// Draws per step: the corrector's, then the predictor's.
    std::uint64_t draws() const { return corrector_steps() + 1; }

    /// The corrector's Langevin steps at time t, with the last step's signal ratio (1 before any).
    tensor correct(tensor x, double t, std::uint64_t index) const {
        if (o_.corrector == "none") return x;
        const double sigma = d_.diffusion_process().sigma(t);
        for (std::uint64_t j = 0; j < corrector_steps(); ++j)
            x = langevin_step(x, d_.score(x, t), ctx_.noise_like(x, index * draws() + j), o_.snr, signal_ratio_,
                              o_.norms == "expected" ? std::optional<double>(sigma) : std::nullopt);
        return x;
    }

    const denoiser& d_;
    const pc_sampler::options& o_;
    const sampling_context& ctx_;
    double signal_ratio_ = 1.0;
};

}  // namespace

std::unique_ptr<sampler_run> pc_sampler::start(const denoiser& d, const sampling_context& ctx) const {
    return std::make_unique<pc_run>(d, opts_, ctx);
}

}  // namespace difflab::plugins
