// SPDX-License-Identifier: Apache-2.0
// Default conversions of the process interface (numerical where a process gives no closed form).
#include <difflab/diffusion/process.h>

#include <algorithm>
#include <cmath>

namespace difflab {

namespace {
// Central differences at this step are accurate to ~1e-8 for smooth schedules on [0, 1].
constexpr double derivative_step = 1e-5;
}  // namespace

double process::log_snr(double t) const {
    const double a = alpha(t), s = sigma(t);
    return 2.0 * (std::log(a) - std::log(s));
}

double process::t_of_log_snr(double lambda) const {
    double lo = t_min(), hi = t_max();  // log_snr decreases: log_snr(lo) >= lambda >= log_snr(hi)
    if (lambda >= log_snr(lo)) return lo;
    if (lambda <= log_snr(hi)) return hi;
    for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
        const double mid = 0.5 * (lo + hi);
        if (log_snr(mid) > lambda)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double process::drift(double t) const {
    const double h = derivative_step;
    const double lo = std::max(t - h, 0.0), hi = std::min(t + h, 1.0);
    return (std::log(alpha(hi)) - std::log(alpha(lo))) / (hi - lo);
}

double process::diffusion(double t) const {
    const double h = derivative_step;
    const double lo = std::max(t - h, 0.0), hi = std::min(t + h, 1.0);
    const double s = sigma(t);
    const double d_sigma2 = (sigma(hi) * sigma(hi) - sigma(lo) * sigma(lo)) / (hi - lo);
    return std::sqrt(std::max(d_sigma2 - 2.0 * drift(t) * s * s, 0.0));
}

double process::prior_std() const {
    const double a = alpha(t_max()), s = sigma(t_max());
    return std::sqrt(a * a + s * s);
}

double process::training_time(double u) const {
    return t_min() + u * (t_max() - t_min());
}

double process::loss_weight(double t) const {
    return std::exp(log_snr(t));
}

}  // namespace difflab
