// SPDX-License-Identifier: Apache-2.0
// Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1).
#include "annealed_langevin_sampler.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab::plugins {

param_spec<annealed_langevin_sampler::options> annealed_langevin_sampler::params() {
    param_spec<options> spec{"Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) for VE processes."};
    add_grid_options(spec,
                     "Number of noise levels, taken from the time grid (on process ncsn with uniform spacing, "
                     "steps = levels visits exactly its levels).",
                     "Time grid of the noise levels.");
    spec.add(&options::steps_each, "steps_each", "Langevin steps per noise level (T).", at_least<std::int64_t>(1));
    spec.add(&options::step_size, "step_size",
             "Step size epsilon at the smallest level; alpha_i scales with sigma_i^2.", greater_than(0.0));
    spec.add(&options::denoise, "denoise",
             "Finish with the denoised estimate at the last level (one more evaluation); false returns the last "
             "Langevin iterate.");
    return spec;
}

annealed_langevin_sampler::annealed_langevin_sampler(const options& opts, build_context&) : opts_(opts) {}

void annealed_langevin_sampler::check(const process& p) const {
    // The step sizes alpha_i ~ sigma_i^2 and the Langevin targets p_sigma(x) assume x = x0 + sigma z;
    // with a shrinking signal (VP) the levels are not just noise scales and the chain targets the wrong thing.
    for (const auto& [where, t] : {std::pair{"t_max", p.t_max()}, std::pair{"t_min", p.t_min()}}) {
        const double a = p.alpha(t);
        if (std::abs(a - 1.0) > 1e-12)
            throw config_error(fmt::format(
                "sampler 'annealed_langevin' is defined for variance-exploding processes (alpha = 1: ncsn, "
                "ve_sde, edm), not for a process with alpha({}) = {:.6g}; use sampler 'pc' with predictor 'none' and "
                "corrector 'langevin' instead",
                where, a));
    }
    // Near a sharp mode the score is about -(x - x0) / sigma^2, so one step multiplies the
    // distance to it by 1 - alpha_L / (2 sigma_L^2) = 1 - epsilon / (2 sigma_L^2): from a ratio of
    // 4 on the chain no longer contracts. Epsilon is tied to sigma_L (Song & Ermon's 2e-5 was
    // tuned for sigma_L = 0.01), so a process with smaller noise needs a smaller one.
    const double sigma_last = p.sigma(time_grid(p, opts_.steps, opts_.spacing).back());
    const double ratio = opts_.step_size / (sigma_last * sigma_last);
    if (ratio >= 4.0)
        throw config_error(fmt::format(
            "sampler 'annealed_langevin': step_size {:g} is unstable at the smallest noise level sigma = {:.4g} "
            "(step_size / sigma^2 = {:.3g} must be below 4); set step_size below {:.3g} (Song & Ermon's ratio 0.2 "
            "gives {:.3g})",
            opts_.step_size, sigma_last, ratio, 4 * sigma_last * sigma_last, 0.2 * sigma_last * sigma_last));
}

std::int64_t annealed_langevin_sampler::evaluations(const process&) const {
    return opts_.steps * opts_.steps_each + (opts_.denoise ? 1 : 0);
}

std::vector<double> annealed_langevin_sampler::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

namespace {

/// Langevin steps at each path time: a step runs them at its `from` level and leaves x there
/// (a variance-exploding process needs no move between levels), finish() at the last level.
class langevin_run final : public sampler_run {
public:
    langevin_run(const denoiser& d, const annealed_langevin_sampler::options& o, const sampling_context& ctx,
                 double sigma_last)
        : d_(d), o_(o), ctx_(ctx), sigma_last_(sigma_last) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t index) override {
        return langevin(x, step.from, index);
    }
    tensor finish(const tensor& x, double t, std::uint64_t index) override {
        const tensor out = langevin(x, t, index);
        return o_.denoise ? d_.x0(out, t) : out;
    }

private:
    /// Algorithm 1's inner loop at level sigma(t): alpha_i = epsilon sigma_i^2 / sigma_L^2.
    tensor langevin(tensor x, double t, std::uint64_t index) const {
        const double sigma = d_.diffusion_process().sigma(t);
        const double alpha = o_.step_size * (sigma * sigma) / (sigma_last_ * sigma_last_);
        const auto steps_each = static_cast<std::uint64_t>(o_.steps_each);
        for (std::uint64_t j = 0; j < steps_each; ++j) {
            const tensor z = ctx_.noise_like(x, index * steps_each + j);
            x = x + d_.score(x, t) * (alpha / 2) + z * std::sqrt(alpha);
        }
        return x;
    }

    const denoiser& d_;
    const annealed_langevin_sampler::options& o_;
    const sampling_context& ctx_;
    double sigma_last_;
};

}  // namespace

std::unique_ptr<sampler_run> annealed_langevin_sampler::start(const denoiser& d, const sampling_context& ctx) const {
    const process& p = d.diffusion_process();
    // The step sizes scale to the last level the path reaches (sigma_L of Song & Ermon).
    const double last = ctx.path ? ctx.path->end() : times(p, p.t_max()).back();
    return std::make_unique<langevin_run>(d, opts_, ctx, p.sigma(last));
}

}  // namespace difflab::plugins
