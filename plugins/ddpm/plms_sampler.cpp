// SPDX-License-Identifier: Apache-2.0
// The PLMS / PNDM sampler (Liu, Ren, Lin & Zhao 2022).
#include "plms_sampler.h"

#include <difflab/tensor/ops.h>

#include <algorithm>
#include <vector>

namespace difflab::plugins {

namespace {

/// The transfer part: the DDIM (eta = 0) step from x at t to s with noise estimate e. Exact
/// when e is constant along the path, whatever alpha and sigma are.
tensor transfer(const process& p, const tensor& x, const tensor& e, double t, double s) {
    const double a_t = p.alpha(t), a_s = p.alpha(s);
    return x * (a_s / a_t) + e * (p.sigma(s) - a_s * p.sigma(t) / a_t);
}

/// Adams-Bashforth of the order the history allows (at most 4) on noise estimates, oldest
/// first: the lower orders start the multistep warm-up.
tensor adams_bashforth(const std::vector<tensor>& history) {
    const std::size_t n = history.size();
    const tensor& e0 = history[n - 1];
    switch (n) {
        case 1:
            return e0;
        case 2:
            return (e0 * 3.0f - history[0]) * 0.5f;
        case 3:
            return (e0 * 23.0f - history[1] * 16.0f + history[0] * 5.0f) * (1.0 / 12.0);
        default:
            return (e0 * 55.0f - history[n - 2] * 59.0f + history[n - 3] * 37.0f - history[n - 4] * 9.0f) *
                   (1.0 / 24.0);
    }
}

}  // namespace

param_spec<plms_sampler::options> plms_sampler::params() {
    param_spec<options> spec{
        "PNDM / PLMS sampler (Liu et al. 2022): fourth-order Adams-Bashforth on noise estimates, moved by DDIM steps."};
    add_grid_options(spec, "Number of grid times (each one evaluation, plus 3 per Runge-Kutta step).",
                     "Time grid; the multistep weights treat its steps as equal.");
    spec.add(&options::warmup, "warmup",
             "First three steps: multistep (Adams-Bashforth of orders 1 to 3, 1 evaluation each) or prk (pseudo "
             "Runge-Kutta, 4 evaluations each; F-PNDM; diverges where "
             "alpha(t_max) ~ 0, as on the cosine DDPM schedule).",
             one_of({"multistep", "prk"}));
    return spec;
}

plms_sampler::plms_sampler(const options& opts, build_context&) : opts_(opts) {}

std::int64_t plms_sampler::prk_steps() const {
    return opts_.warmup == "prk" ? std::min<std::int64_t>(3, opts_.steps - 1) : 0;
}

std::int64_t plms_sampler::evaluations(const process&) const {
    return opts_.steps + 3 * prk_steps();
}

std::vector<double> plms_sampler::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

namespace {

/// PLMS along a path: the noise estimates of the last (up to) four steps, oldest first, which
/// a jump or an edit clears (the warm-up starts again).
class plms_run final : public sampler_run {
public:
    plms_run(const denoiser& d, bool runge_kutta_warmup) : d_(d), runge_kutta_warmup_(runge_kutta_warmup) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t) override {
        const process& p = d_.diffusion_process();
        const double t = step.from, s = step.to;
        const tensor x0 = d_.x0(x, t);
        if (history_.size() == 4) history_.erase(history_.begin());
        history_.push_back(eps_from_x0(p, x, x0, t));
        const tensor& e1 = history_.back();
        if (runge_kutta_warmup_ && history_.size() < 4) {
            // RK4's stages, each taken by the transfer part from x_t rather than by Euler steps.
            const double m = 0.5 * (t + s);
            const tensor e2 = d_.eps(transfer(p, x, e1, t, m), m);
            const tensor e3 = d_.eps(transfer(p, x, e2, t, m), m);
            const tensor e4 = d_.eps(transfer(p, x, e3, t, s), s);
            return transfer(p, x, (e1 + (e2 + e3) * 2.0f + e4) * (1.0 / 6.0), t, s);
        }
        return transfer(p, x, adams_bashforth(history_), t, s);
    }
    void restart() override { history_.clear(); }
    tensor finish(const tensor& x, double t, std::uint64_t) override { return d_.x0(x, t); }

private:
    const denoiser& d_;
    bool runge_kutta_warmup_;
    std::vector<tensor> history_;
};

}  // namespace

std::unique_ptr<sampler_run> plms_sampler::start(const denoiser& d, const sampling_context&) const {
    return std::make_unique<plms_run>(d, opts_.warmup == "prk");
}

}  // namespace difflab::plugins
