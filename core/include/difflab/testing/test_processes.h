// SPDX-License-Identifier: Apache-2.0
// Test support: processes whose schedules tests know in closed form.
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

/// A variance-preserving process with alpha^2 = 1 - 0.999 t and sigma^2 = 0.999 t (variance
/// linear in t), on t in [1e-3, 1]: the simplest schedule for training-loop tests.
class linear_vp final : public process {
public:
    double alpha(double t) const override { return std::sqrt(1 - t * 0.999); }
    double sigma(double t) const override { return std::sqrt(t * 0.999); }
    double t_min() const override { return 1e-3; }
};

}  // namespace difflab::testing
