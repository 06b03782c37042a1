// SPDX-License-Identifier: Apache-2.0
// Test support: a process whose schedule tests know in closed form.
#pragma once

#include <difflab/diffusion/process.h>

#include <cmath>

namespace difflab::testing {

/// A variance-preserving process with alpha = cos(pi t / 2), sigma = sin(pi t / 2) (the cosine
/// schedule of Nichol & Dhariwal 2021 in continuous time, without its offset): its log-SNR,
/// drift and diffusion are closed-form, so samplers and denoisers can be checked on it with no
/// plugin loaded. t_min is 1e-3; t_max is the constructor's (below 1, where sigma / alpha is finite).
class cosine_vp final : public process {
public:
    explicit cosine_vp(double t_max = 0.999) : t_max_(t_max) {}
    double alpha(double t) const override { return std::cos(M_PI / 2 * t); }
    double sigma(double t) const override { return std::sin(M_PI / 2 * t); }
    double t_min() const override { return 1e-3; }
    double t_max() const override { return t_max_; }

private:
    double t_max_;
};

}  // namespace difflab::testing
