// SPDX-License-Identifier: Apache-2.0
// The NCSN noise levels (Song & Ermon 2019).
#include "ncsn_process.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

param_spec<ncsn_process::options> ncsn_process::params() {
    param_spec<options> spec{"NCSN noise levels (Song & Ermon 2019): a geometric sequence of sigmas."};
    spec.add(&options::sigma_min, "sigma_min", "Smallest noise level sigma_L.", greater_than(0.0));
    spec.add(&options::sigma_max, "sigma_max", "Largest noise level sigma_1.", greater_than(0.0));
    spec.add(&options::levels, "levels", "Number of noise levels L.", at_least<std::int64_t>(2));
    return spec;
}

ncsn_process::ncsn_process(const options& opts, build_context&) : opts_(opts) {
    if (opts.sigma_max <= opts.sigma_min)
        throw config_error(source_mark{""}, fmt::format("ncsn: sigma_max ({}) must exceed sigma_min ({}); swap them",
                                                        opts.sigma_max, opts.sigma_min));
}

double ncsn_process::sigma(double t) const {
    // t = 1/L -> sigma_min, t = 1 -> sigma_max, geometric in between.
    const double L = static_cast<double>(opts_.levels);
    const double position = (t * L - 1.0) / (L - 1.0);
    return opts_.sigma_min * std::pow(opts_.sigma_max / opts_.sigma_min, position);
}

double ncsn_process::training_time(double u) const {
    const auto level = std::min(static_cast<std::int64_t>(u * static_cast<double>(opts_.levels)), opts_.levels - 1);
    return static_cast<double>(level + 1) / static_cast<double>(opts_.levels);
}

std::vector<double> ncsn_process::sigmas() const {
    std::vector<double> out;
    for (std::int64_t i = 1; i <= opts_.levels; ++i)
        out.push_back(sigma(static_cast<double>(opts_.levels - i + 1) / static_cast<double>(opts_.levels)));
    return out;
}

}  // namespace difflab::plugins
