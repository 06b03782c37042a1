// SPDX-License-Identifier: Apache-2.0
// The 'blur' measurement.
#include "blur_measurement.h"

#include <cmath>
#include <cstddef>
#include <vector>

#include "measurement_common.h"

namespace difflab::plugins {

param_spec<blur_measurement::options> blur_measurement::params() {
    param_spec<options> spec{
        "Separable Gaussian blur of every channel, the same shape out (Kawar et al. 2022, DDRM's deblurring)."};
    spec.add(&options::sigma, "sigma", "Standard deviation of the Gaussian kernel, in pixels.", greater_than(0.0));
    spec.add(&options::size, "size", "Kernel width in pixels (odd): taps at -(size-1)/2 .. (size-1)/2.",
             at_least<std::int64_t>(1),
             constraint<std::int64_t>{"odd", [](const std::int64_t& v) { return v % 2 == 1; }});
    spec.add(&options::boundary, "boundary",
             "What taps outside the image read: zero (DDRM's Deblurring) or symmetric (the image mirrored, the edge "
             "pixel repeated).",
             one_of({"zero", "symmetric"}));
    spec.add(&options::cutoff, "cutoff",
             "1-D singular values below this become 0, and the operator its truncated SVD (DDRM uses 3e-2); 0 keeps "
             "the exact blur.",
             at_least(0.0));
    add_noise_std(spec);
    return spec;
}

blur_measurement::blur_measurement(const options& opts, build_context&) : opts_(opts) {}

Eigen::MatrixXd blur_measurement::axis_matrix(std::int64_t length, const shape_t&) const {
    const std::int64_t radius = (opts_.size - 1) / 2;
    std::vector<double> kernel(static_cast<std::size_t>(opts_.size));
    double total = 0;
    for (std::int64_t t = -radius; t <= radius; ++t)
        total += kernel[static_cast<std::size_t>(t + radius)] =
            std::exp(-0.5 * static_cast<double>(t * t) / (opts_.sigma * opts_.sigma));
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(length, length);
    for (std::int64_t i = 0; i < length; ++i)
        for (std::int64_t t = -radius; t <= radius; ++t) {
            const std::int64_t j = i + t;
            const bool outside = j < 0 || j >= length;
            if (outside && opts_.boundary == "zero") continue;
            a(i, outside ? mirror_index(j, length) : j) += kernel[static_cast<std::size_t>(t + radius)] / total;
        }
    return a;
}

}  // namespace difflab::plugins
