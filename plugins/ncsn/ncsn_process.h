// SPDX-License-Identifier: Apache-2.0
// The noise levels of noise-conditioned score networks.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <vector>

namespace difflab::plugins {

/// Noise-conditioned score networks (Song & Ermon 2019, "Generative modeling by estimating
/// gradients of the data distribution"): L noise levels forming a geometric sequence
/// sigma_max = sigma_1 > ... > sigma_L = sigma_min, x = x_0 + sigma_i noise (alpha = 1).
/// Level i (1 = largest) sits at t = (L - i + 1) / L, so t = 1 is sigma_max and t = 1 / L is
/// sigma_min; log sigma is linear in t, which makes the process a VE SDE sampled on L points.
/// The defaults are the paper's (sigma_1 = 1, sigma_10 = 0.01).
class ncsn_process final : public process {
public:
    struct options {
        double sigma_min = 0.01;
        double sigma_max = 1.0;
        std::int64_t levels = 10;
    };
    static param_spec<options> params();
    ncsn_process(const options& opts, build_context& ctx);

    double alpha(double) const override { return 1.0; }
    double sigma(double t) const override;
    double drift(double) const override { return 0.0; }
    double t_min() const override { return 1.0 / static_cast<double>(opts_.levels); }
    std::int64_t steps() const override { return opts_.levels; }
    /// A level drawn uniformly (Song & Ermon train on all levels equally, weight sigma^2).
    double training_time(double u) const override;

    /// sigma_1 > ... > sigma_L (index i - 1).
    std::vector<double> sigmas() const;

private:
    options opts_;
};

}  // namespace difflab::plugins
