// SPDX-License-Identifier: Apache-2.0
// The 'resize' measurement.
#include "resize_measurement.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "measurement_common.h"

namespace difflab::plugins {

namespace {

// Keys' cubic convolution kernel with a = -1/2 (support |t| < 2), as MATLAB's imresize.
double cubic(double t) {
    const double a = std::abs(t);
    if (a <= 1) return (1.5 * a - 2.5) * a * a + 1;
    if (a < 2) return ((-0.5 * a + 2.5) * a - 4) * a + 2;
    return 0;
}

// The linear hat (support |t| < 1).
double hat(double t) {
    return std::max(0.0, 1 - std::abs(t));
}

}  // namespace

param_spec<resize_measurement::options> resize_measurement::params() {
    param_spec<options> spec{
        "Downsampling by an integer factor with an antialiased cubic or linear kernel, as ILVR's resizer (Choi et al. "
        "2021); its pseudo-inverse is the matching up, so H^+ H is ILVR's low-pass filter as a projection."};
    spec.add(&options::factor, "factor", "Downsampling factor k; H and W must be multiples of it.",
             at_least<std::int64_t>(1));
    spec.add(
        &options::kernel, "kernel",
        "Interpolation kernel, stretched by the factor (antialiasing): cubic (Keys, a = -1/2, as ILVR and MATLAB's "
        "imresize) or linear (the hat, as antialiased bilinear resizing).",
        one_of({"cubic", "linear"}));
    add_noise_std(spec);
    return spec;
}

resize_measurement::resize_measurement(const options& opts, build_context&) : opts_(opts) {}

Eigen::MatrixXd resize_measurement::axis_matrix(std::int64_t length, const shape_t& example) const {
    const std::int64_t k = opts_.factor;
    if (length % k != 0)
        throw config_error(
            fmt::format("{}: examples {} have a side of {} pixels, not a multiple of factor {}; choose a "
                        "factor that divides the height and width, or resize the data",
                        label(), shape_text(example), length, k));
    const bool is_cubic = opts_.kernel == "cubic";
    const double scale = 1.0 / static_cast<double>(k), width = (is_cubic ? 4.0 : 2.0) * static_cast<double>(k);
    const std::int64_t m = length / k;
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(m, length);
    for (std::int64_t i = 0; i < m; ++i) {
        const double center = (static_cast<double>(i) + 0.5) * static_cast<double>(k) - 0.5;
        const auto first = static_cast<std::int64_t>(std::floor(center - width / 2)) - 1;
        const auto last = static_cast<std::int64_t>(std::ceil(center + width / 2)) + 1;
        double total = 0;
        for (std::int64_t j = first; j <= last; ++j) {
            const double t = scale * (center - static_cast<double>(j));
            total += scale * (is_cubic ? cubic(t) : hat(t));
        }
        for (std::int64_t j = first; j <= last; ++j) {
            const double t = scale * (center - static_cast<double>(j));
            a(i, mirror_index(j, length)) += scale * (is_cubic ? cubic(t) : hat(t)) / total;
        }
    }
    return a;
}

}  // namespace difflab::plugins
