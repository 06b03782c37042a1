// SPDX-License-Identifier: Apache-2.0
// The EDM noise process (Karras et al. 2022).
#include "edm_process.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/math/special_functions/erf.hpp>
#include <cmath>

namespace difflab::plugins {

param_spec<edm_process::options> edm_process::params() {
    param_spec<options> spec{"EDM noise process (Karras et al. 2022): rho-warped sigma, log-normal training."};
    spec.add(&options::sigma_min, "sigma_min", "Smallest noise level.", greater_than(0.0));
    spec.add(&options::sigma_max, "sigma_max", "Largest noise level.", greater_than(0.0));
    spec.add(&options::rho, "rho", "Warp of the time axis (7 in the paper).", greater_than(0.0));
    spec.add(&options::sigma_data, "sigma_data", "Standard deviation of the data.", greater_than(0.0));
    spec.add(&options::p_mean, "p_mean", "Mean of ln(sigma) during training.");
    spec.add(&options::p_std, "p_std", "Standard deviation of ln(sigma) during training.", greater_than(0.0));
    return spec;
}

edm_process::edm_process(const options& opts, build_context&)
    : opts_(opts),
      root_min_(std::pow(opts.sigma_min, 1.0 / opts.rho)),
      root_max_(std::pow(opts.sigma_max, 1.0 / opts.rho)) {
    if (opts.sigma_max <= opts.sigma_min)
        throw config_error(source_mark{""}, fmt::format("edm: sigma_max ({}) must exceed sigma_min ({}); swap them",
                                                        opts.sigma_max, opts.sigma_min));
}

double edm_process::sigma(double t) const {
    return std::pow(root_min_ + t * (root_max_ - root_min_), opts_.rho);
}

double edm_process::t_of_sigma(double s) const {
    return std::clamp((std::pow(s, 1.0 / opts_.rho) - root_min_) / (root_max_ - root_min_), 0.0, 1.0);
}

double edm_process::t_of_log_snr(double lambda) const {
    return t_of_sigma(std::exp(-0.5 * lambda));
}

double edm_process::diffusion(double t) const {
    // g^2 = d sigma^2 / dt = 2 sigma sigma', sigma' = rho (root_max - root_min) sigma^((rho - 1) / rho).
    const double s = sigma(t);
    const double derivative = opts_.rho * (root_max_ - root_min_) * std::pow(s, (opts_.rho - 1.0) / opts_.rho);
    return std::sqrt(2.0 * s * derivative);
}

double edm_process::training_time(double u) const {
    const double z = std::sqrt(2.0) * boost::math::erf_inv(std::clamp(2.0 * u - 1.0, -1.0 + 1e-16, 1.0 - 1e-16));
    return t_of_sigma(std::exp(opts_.p_mean + opts_.p_std * z));
}

double edm_process::loss_weight(double t) const {
    const double s = sigma(t), d = opts_.sigma_data;
    return (s * s + d * d) / (s * d * s * d);
}

}  // namespace difflab::plugins
