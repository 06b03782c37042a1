// SPDX-License-Identifier: Apache-2.0
// The VP, sub-VP and VE SDEs (Song et al. 2021).
#include "sde_processes.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

namespace {

param_spec<linear_beta_options> linear_beta_params(const char* description) {
    param_spec<linear_beta_options> spec{description};
    spec.add(&linear_beta_options::beta_min, "beta_min", "beta(0).", greater_than(0.0));
    spec.add(&linear_beta_options::beta_max, "beta_max", "beta(1).", greater_than(0.0));
    spec.add(&linear_beta_options::eps, "eps", "Smallest time samplers integrate to.", closed_range(1e-8, 0.5));
    spec.add(&linear_beta_options::training_eps, "training_eps", "Smallest training time.", closed_range(1e-8, 0.5));
    return spec;
}

void check_beta(const char* name, const linear_beta_options& o) {
    if (o.beta_max < o.beta_min)
        throw config_error(source_mark{""}, fmt::format("{}: beta_max ({}) is below beta_min ({}); swap them", name,
                                                        o.beta_max, o.beta_min));
}

double training_time_in(double u, double eps) {
    return eps + u * (1.0 - eps);
}

}  // namespace

// --- VP ----------------------------------------------------------------------------------------

param_spec<vp_sde::options> vp_sde::params() {
    return linear_beta_params("Variance-preserving SDE (Song et al. 2021), the continuous DDPM.");
}

vp_sde::vp_sde(const options& opts, build_context&) : opts_(opts) {
    check_beta("vp_sde", opts);
}

double vp_sde::beta(double t) const {
    return opts_.beta_min + t * (opts_.beta_max - opts_.beta_min);
}

double vp_sde::integrated_beta(double t) const {
    return opts_.beta_min * t + 0.5 * (opts_.beta_max - opts_.beta_min) * t * t;
}

double vp_sde::alpha(double t) const {
    return std::exp(-0.5 * integrated_beta(t));
}

double vp_sde::sigma(double t) const {
    return std::sqrt(-std::expm1(-integrated_beta(t)));
}

double vp_sde::t_of_log_snr(double lambda) const {
    // alpha^2 / sigma^2 = e^lambda  <=>  B(t) = log(1 + e^-lambda); B is a quadratic in t.
    const double b = std::log1p(std::exp(-lambda));
    const double d = opts_.beta_max - opts_.beta_min;
    const double t = d == 0 ? b / opts_.beta_min
                            : 2.0 * b / (opts_.beta_min + std::sqrt(opts_.beta_min * opts_.beta_min + 2.0 * d * b));
    return std::clamp(t, t_min(), t_max());
}

double vp_sde::drift(double t) const {
    return -0.5 * beta(t);
}

double vp_sde::diffusion(double t) const {
    return std::sqrt(beta(t));
}

double vp_sde::training_time(double u) const {
    return training_time_in(u, opts_.training_eps);
}

// --- sub-VP ------------------------------------------------------------------------------------

param_spec<subvp_sde::options> subvp_sde::params() {
    return linear_beta_params("Sub-VP SDE (Song et al. 2021): the VP drift with a smaller diffusion.");
}

subvp_sde::subvp_sde(const options& opts, build_context& ctx) : opts_(opts), vp_(opts, ctx) {}

double subvp_sde::alpha(double t) const {
    return vp_.alpha(t);
}

double subvp_sde::sigma(double t) const {
    return -std::expm1(-vp_.integrated_beta(t));
}

double subvp_sde::drift(double t) const {
    return vp_.drift(t);
}

double subvp_sde::diffusion(double t) const {
    return std::sqrt(vp_.beta(t) * -std::expm1(-2.0 * vp_.integrated_beta(t)));
}

double subvp_sde::training_time(double u) const {
    return training_time_in(u, opts_.training_eps);
}

// --- VE ----------------------------------------------------------------------------------------

param_spec<ve_sde::options> ve_sde::params() {
    param_spec<options> spec{"Variance-exploding SDE (Song et al. 2021), the continuous NCSN."};
    spec.add(&options::sigma_min, "sigma_min", "sigma(0).", greater_than(0.0));
    spec.add(&options::sigma_max, "sigma_max", "sigma(1); about the largest distance between data points.",
             greater_than(0.0));
    spec.add(&options::eps, "eps", "Smallest sampling and training time.", closed_range(1e-8, 0.5));
    return spec;
}

ve_sde::ve_sde(const options& opts, build_context&) : opts_(opts) {
    if (opts.sigma_max <= opts.sigma_min)
        throw config_error(source_mark{""}, fmt::format("ve_sde: sigma_max ({}) must exceed sigma_min ({}); swap them",
                                                        opts.sigma_max, opts.sigma_min));
}

double ve_sde::sigma(double t) const {
    return opts_.sigma_min * std::pow(opts_.sigma_max / opts_.sigma_min, t);
}

double ve_sde::t_of_log_snr(double lambda) const {
    // lambda = -2 log sigma(t)  <=>  t = (log sigma - log sigma_min) / log(sigma_max / sigma_min).
    const double t = (-0.5 * lambda - std::log(opts_.sigma_min)) / std::log(opts_.sigma_max / opts_.sigma_min);
    return std::clamp(t, t_min(), t_max());
}

double ve_sde::diffusion(double t) const {
    return sigma(t) * std::sqrt(2.0 * std::log(opts_.sigma_max / opts_.sigma_min));
}

}  // namespace difflab::plugins
