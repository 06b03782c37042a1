// SPDX-License-Identifier: Apache-2.0
// The discrete DDPM forward process.
#include "ddpm_process.h"

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

namespace {

std::vector<double> make_betas(const ddpm_process::options& o) {
    const auto n = static_cast<std::size_t>(o.steps);
    std::vector<double> betas(n);
    // linspace(start, end, n), as numpy and the reference implementations compute it.
    auto at = [n](double start, double end, std::size_t i) {
        return n == 1 ? start : start + (end - start) * static_cast<double>(i) / static_cast<double>(n - 1);
    };
    for (std::size_t i = 0; i < n; ++i) {
        if (o.schedule == "linear") {
            betas[i] = at(o.beta_start, o.beta_end, i);
        } else if (o.schedule == "quadratic") {
            const double r = at(std::sqrt(o.beta_start), std::sqrt(o.beta_end), i);
            betas[i] = r * r;
        } else if (o.schedule == "sigmoid") {
            betas[i] = o.beta_start + (o.beta_end - o.beta_start) / (1.0 + std::exp(-at(-6.0, 6.0, i)));
        } else {  // cosine: alpha_bar(t) = f(t) / f(0), f(t) = cos^2((t / T + s) / (1 + s) * pi / 2)
            const double T = static_cast<double>(n), pi = std::acos(-1.0);
            auto f = [&](double step) {
                return std::pow(std::cos((step / T + o.cosine_s) / (1 + o.cosine_s) * pi / 2), 2);
            };
            betas[i] = std::min(1.0 - f(static_cast<double>(i) + 1) / f(static_cast<double>(i)), 0.999);
        }
    }
    return betas;
}

}  // namespace

param_spec<ddpm_process::options> ddpm_process::params() {
    param_spec<options> spec{
        "DDPM forward process (Ho et al. 2020) with linear, cosine (Nichol & Dhariwal 2021), "
        "quadratic or sigmoid beta schedule."};
    spec.add(&options::steps, "steps", "Number of diffusion steps T.", at_least<std::int64_t>(1));
    spec.add(&options::schedule, "schedule", "Beta schedule.", one_of({"linear", "cosine", "quadratic", "sigmoid"}));
    spec.add(&options::beta_start, "beta_start", "beta_1 (linear, quadratic, sigmoid).", closed_range(1e-8, 0.999));
    spec.add(&options::beta_end, "beta_end", "beta_T (linear, quadratic, sigmoid).", closed_range(1e-8, 0.999));
    spec.add(&options::cosine_s, "cosine_s", "Offset s of the cosine schedule.", closed_range(0.0, 1.0));
    spec.add(&options::variance, "variance",
             "Reverse-step variance: the posterior's beta_tilde (fixed_small) or beta (fixed_large).",
             one_of({"fixed_small", "fixed_large"}));
    return spec;
}

ddpm_process::ddpm_process(const options& opts, build_context&) : opts_(opts), betas_(make_betas(opts)) {
    alphas_cumprod_.resize(betas_.size());
    double product = 1.0;
    for (std::size_t i = 0; i < betas_.size(); ++i) alphas_cumprod_[i] = product *= 1.0 - betas_[i];
}

double ddpm_process::log_alpha(double t) const {
    const double T = static_cast<double>(opts_.steps);
    const double position = std::clamp(t, 0.0, 1.0) * T;  // step index as a real number
    const auto below = static_cast<std::int64_t>(std::floor(position));
    auto at = [&](std::int64_t i) {
        return i == 0 ? 0.0 : 0.5 * std::log(alphas_cumprod_[static_cast<std::size_t>(i - 1)]);
    };
    if (below >= opts_.steps) return at(opts_.steps);
    const double w = position - static_cast<double>(below);
    return (1.0 - w) * at(below) + w * at(below + 1);
}

double ddpm_process::alpha(double t) const {
    return std::exp(log_alpha(t));
}

double ddpm_process::sigma(double t) const {
    return std::sqrt(-std::expm1(2.0 * log_alpha(t)));
}

double ddpm_process::training_time(double u) const {
    const auto i = std::min(static_cast<std::int64_t>(u * static_cast<double>(opts_.steps)), opts_.steps - 1) + 1;
    return static_cast<double>(i) / static_cast<double>(opts_.steps);
}

double ddpm_process::reverse_variance(std::int64_t i) const {
    const auto k = static_cast<std::size_t>(i - 1);
    if (opts_.variance == "fixed_large") return betas_[k];
    const double previous = i == 1 ? 1.0 : alphas_cumprod_[k - 1];
    return betas_[k] * (1.0 - previous) / (1.0 - alphas_cumprod_[k]);
}

}  // namespace difflab::plugins
