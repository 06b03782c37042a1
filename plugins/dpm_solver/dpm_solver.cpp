// SPDX-License-Identifier: Apache-2.0
// DPM-Solver (noise prediction) and DPM-Solver++ (data prediction), Lu et al. 2022.
#include "dpm_solver.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <cmath>
#include <deque>

namespace difflab::plugins {

namespace {

/// lambda = log(alpha / sigma), half the log-SNR, as the papers write it.
double lambda_of(const process& p, double t) {
    return 0.5 * p.log_snr(t);
}
double t_of_lambda(const process& p, double lambda) {
    return p.t_of_log_snr(2.0 * lambda);
}

param_spec<dpm_solver_options> solver_params(const char* description, bool singlestep_allowed) {
    param_spec<dpm_solver_options> spec{description};
    add_grid_options(spec, "Number of time points (evaluations for multistep).",
                     "Time grid (DPM-Solver recommends logsnr).");
    spec.add(&dpm_solver_options::order, "order", "Solver order.", closed_range<std::int64_t>(1, 3));
    spec.add(&dpm_solver_options::method, "method",
             singlestep_allowed ? "multistep, or singlestep (intermediate evaluations inside each step)."
                                : "multistep (DPM-Solver++ here has no single-step variant).",
             singlestep_allowed ? one_of({"multistep", "singlestep"}) : one_of({"multistep"}));
    return spec;
}

struct point {
    double t, lambda;
    tensor value;  // eps (DPM-Solver) or x0 (DPM-Solver++) at t
};

/// One multistep update from history.back() (at t) to s with the given order, in noise
/// prediction (Lu et al. 2022a, eq. 3.6-3.8 and appendix) or data prediction (2022b, Alg. 2).
tensor multistep_update(const process& p, const tensor& x, const std::deque<point>& history, double s, int order,
                        bool data_prediction) {
    const point& now = history.back();
    const double lambda_s = lambda_of(p, s), h = lambda_s - now.lambda;
    const double a_t = p.alpha(now.t), s_t = p.sigma(now.t), a_s = p.alpha(s), s_s = p.sigma(s);
    // First order: DDIM in either parametrization.
    tensor out = data_prediction ? x * (s_s / s_t) - now.value * (a_s * std::expm1(-h))
                                 : x * (a_s / a_t) - now.value * (s_s * std::expm1(h));
    if (order == 1) return out;
    const point& prev = history[history.size() - 2];
    const double r0 = (now.lambda - prev.lambda) / h;
    const tensor d1_0 = (now.value - prev.value) * (1.0 / r0);
    if (order == 2) {
        return data_prediction ? out - d1_0 * (0.5 * a_s * std::expm1(-h)) : out - d1_0 * (0.5 * s_s * std::expm1(h));
    }
    const point& prev2 = history[history.size() - 3];
    const double r1 = (prev.lambda - prev2.lambda) / h;
    const tensor d1_1 = (prev.value - prev2.value) * (1.0 / r1);
    const tensor d1 = d1_0 + (d1_0 - d1_1) * (r0 / (r0 + r1));
    const tensor d2 = (d1_0 - d1_1) * (1.0 / (r0 + r1));
    if (data_prediction) {
        const double phi1 = std::expm1(-h) / h + 1.0, phi2 = (std::expm1(-h) + h) / (h * h) - 0.5;
        return out + d1 * (a_s * phi1) - d2 * (a_s * phi2);
    }
    const double phi1 = std::expm1(h) / h - 1.0, phi2 = (std::expm1(h) - h) / (h * h) - 0.5;
    return out - d1 * (s_s * phi1) - d2 * (s_s * phi2);
}

/// The multistep solvers along a path: the values at the last (up to) three times, which a
/// jump or an edit clears (the warm-up of lower orders starts again).
class multistep_run final : public sampler_run {
public:
    multistep_run(const denoiser& d, const dpm_solver_options& o, bool data_prediction)
        : d_(d), o_(o), data_prediction_(data_prediction) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t) override {
        const process& p = d_.diffusion_process();
        const double t = step.from;
        const tensor x0 = d_.x0(x, t);
        history_.push_back({t, lambda_of(p, t), data_prediction_ ? x0 : eps_from_x0(p, x, x0, t)});
        if (history_.size() > 3) history_.pop_front();
        // Warm up with lower orders; with under 15 steps also end each descent with lower
        // orders (Lu et al.'s lower_order_final, which stabilizes sampling with few steps).
        const std::int64_t cap = o_.steps < 15 ? step.remaining : o_.order;
        const int order = static_cast<int>(std::min({o_.order, static_cast<std::int64_t>(history_.size()), cap}));
        return multistep_update(p, x, history_, step.to, order, data_prediction_);
    }
    void restart() override { history_.clear(); }
    tensor finish(const tensor& x, double t, std::uint64_t) override { return d_.x0(x, t); }

private:
    const denoiser& d_;
    const dpm_solver_options& o_;
    bool data_prediction_;
    std::deque<point> history_;
};

/// One single-step DPM-Solver update (noise prediction) of order 1-3 from t to s, with
/// intermediate points at lambda_t + r h (Lu et al. 2022a, Algorithms 1 and 2 and eq. 3.9).
tensor singlestep_update(const denoiser& d, const tensor& x, const tensor& eps_t, double t, double s, int order) {
    const process& p = d.diffusion_process();
    const double lambda_t = lambda_of(p, t), h = lambda_of(p, s) - lambda_t;
    const double a_t = p.alpha(t), a_s = p.alpha(s), s_s = p.sigma(s);
    auto eps_at = [&](const tensor& u, double time) { return eps_from_x0(p, u, d.x0(u, time), time); };
    // x propagated to the intermediate time `time` at lambda_t + r h with the first-order
    // (DDIM) step.
    auto first_order = [&](double r, double time) {
        return x * (p.alpha(time) / a_t) - eps_t * (p.sigma(time) * std::expm1(r * h));
    };
    tensor out = x * (a_s / a_t) - eps_t * (s_s * std::expm1(h));
    if (order == 1) return out;
    if (order == 2) {
        const double r1 = 0.5, s1 = t_of_lambda(p, lambda_t + r1 * h);
        const tensor u = first_order(r1, s1);
        return out - (eps_at(u, s1) - eps_t) * (s_s / (2.0 * r1) * std::expm1(h));
    }
    const double r1 = 1.0 / 3.0, r2 = 2.0 / 3.0;
    const double s1 = t_of_lambda(p, lambda_t + r1 * h), s2 = t_of_lambda(p, lambda_t + r2 * h);
    const tensor u1 = first_order(r1, s1);
    const tensor d1 = eps_at(u1, s1) - eps_t;
    const tensor u2 = first_order(r2, s2) - d1 * (p.sigma(s2) * r2 / r1 * (std::expm1(r2 * h) / (r2 * h) - 1.0));
    const tensor d2 = eps_at(u2, s2) - eps_t;
    return out - d2 * (s_s / r2 * (std::expm1(h) / h - 1.0));
}

/// The single-step solver along a path: each step on its own, nothing to forget.
class singlestep_run final : public sampler_run {
public:
    singlestep_run(const denoiser& d, std::int64_t order) : d_(d), order_(static_cast<int>(order)) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t) override {
        const process& p = d_.diffusion_process();
        const tensor eps_t = eps_from_x0(p, x, d_.x0(x, step.from), step.from);
        return singlestep_update(d_, x, eps_t, step.from, step.to, order_);
    }
    tensor finish(const tensor& x, double t, std::uint64_t) override { return d_.x0(x, t); }

private:
    const denoiser& d_;
    int order_;
};

}  // namespace

param_spec<dpm_solver::options> dpm_solver::params() {
    return solver_params("DPM-Solver (Lu et al. 2022): noise-prediction exponential integrator, orders 1-3.", true);
}

dpm_solver::dpm_solver(const options& opts, build_context&) : opts_(opts) {}

std::int64_t dpm_solver::evaluations(const process&) const {
    return opts_.method == "singlestep" ? opts_.order * (opts_.steps - 1) + 1 : opts_.steps;
}

std::vector<double> dpm_solver::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

std::unique_ptr<sampler_run> dpm_solver::start(const denoiser& d, const sampling_context&) const {
    if (opts_.method == "singlestep") return std::make_unique<singlestep_run>(d, opts_.order);
    return std::make_unique<multistep_run>(d, opts_, false);
}

param_spec<dpm_solver_pp::options> dpm_solver_pp::params() {
    return solver_params("DPM-Solver++ (Lu et al. 2022): data-prediction multistep solver (2M by default).", false);
}

dpm_solver_pp::dpm_solver_pp(const options& opts, build_context&) : opts_(opts) {}

std::int64_t dpm_solver_pp::evaluations(const process&) const {
    return opts_.steps;
}

std::vector<double> dpm_solver_pp::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

std::unique_ptr<sampler_run> dpm_solver_pp::start(const denoiser& d, const sampling_context&) const {
    return std::make_unique<multistep_run>(d, opts_, true);
}

}  // namespace difflab::plugins
