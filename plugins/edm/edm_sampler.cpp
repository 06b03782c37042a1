// SPDX-License-Identifier: Apache-2.0
// The EDM sampler (Karras et al. 2022, Algorithm 2).
#include "edm_sampler.h"

#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

param_spec<edm_sampler::options> edm_sampler::params() {
    param_spec<options> spec{"EDM sampler (Karras et al. 2022, Algorithm 2): Heun steps with optional churn."};
    add_grid_options(spec, "Number of noise levels N (2N - 1 evaluations without churn).",
                     "Time grid (karras is the paper's).");
    spec.add(&options::s_churn, "s_churn", "Total churn S_churn (0: deterministic).", at_least(0.0));
    spec.add(&options::s_min, "s_min", "Lowest noise level that gets churn.", at_least(0.0));
    spec.add(&options::s_max, "s_max", "Highest noise level that gets churn.", at_least(0.0));
    spec.add(&options::s_noise, "s_noise", "Scale of the churn noise S_noise.", at_least(0.0));
    return spec;
}

edm_sampler::edm_sampler(const options& opts, build_context&) : opts_(opts) {}

std::vector<double> edm_sampler::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

namespace {

/// Algorithm 2 along a path, on the unscaled state x_hat = x / alpha, which the run keeps
/// between steps (so the default path never rescales it) and derives again after a restart.
class edm_run final : public sampler_run {
public:
    edm_run(const denoiser& d, const edm_sampler::options& o, const sampling_context& ctx) : d_(d), o_(o), ctx_(ctx) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t index) override {
        const process& p = d_.diffusion_process();
        x_hat_ = advance(unscaled(x, step.from), noise_level(p, step.from), noise_level(p, step.to), index);
        return x_hat_ * p.alpha(step.to);
    }
    void restart() override { x_hat_ = tensor(); }
    tensor finish(const tensor& x, double t, std::uint64_t index) override {
        return advance(unscaled(x, t), noise_level(d_.diffusion_process(), t), 0.0, index);
    }

private:
    tensor unscaled(const tensor& x, double t) const {
        return x_hat_.defined() ? x_hat_ : x * (1.0 / d_.diffusion_process().alpha(t));
    }

    /// From x_hat at noise level `level` to `next`: churn, an Euler step, and Heun's
    /// correction unless `next` is 0 (the last step, to clean data, stays Euler).
    tensor advance(tensor x_hat, double level, double next, std::uint64_t index) const {
        const double n = static_cast<double>(o_.steps);
        const bool churn = o_.s_churn > 0 && level >= o_.s_min && level <= o_.s_max;
        const double gamma = churn ? std::min(o_.s_churn / n, std::sqrt(2.0) - 1.0) : 0.0;
        const double raised = level * (1.0 + gamma);
        if (gamma > 0)
            x_hat = x_hat + ctx_.noise_like(x_hat, index) * (o_.s_noise * std::sqrt(raised * raised - level * level));
        const tensor slope = (x_hat - denoise_at_level(d_, x_hat, raised)) * (1.0 / raised);
        tensor stepped = x_hat + slope * (next - raised);
        if (next > 0) {
            const tensor slope_next = (stepped - denoise_at_level(d_, stepped, next)) * (1.0 / next);
            stepped = x_hat + (slope + slope_next) * (0.5 * (next - raised));
        }
        return stepped;
    }

    const denoiser& d_;
    const edm_sampler::options& o_;
    const sampling_context& ctx_;
    tensor x_hat_;
};

}  // namespace

std::unique_ptr<sampler_run> edm_sampler::start(const denoiser& d, const sampling_context& ctx) const {
    return std::make_unique<edm_run>(d, opts_, ctx);
}

}  // namespace difflab::plugins
