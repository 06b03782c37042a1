// SPDX-License-Identifier: Apache-2.0
// What the restoration tasks share.
#include "measured_images.h"

#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>

#include <cmath>
#include <vector>

namespace difflab::plugins {

tensor measure(const measurement& h, const tensor& x, const noise* source, std::uint64_t seed, std::int64_t first) {
    tensor y = h.apply(x);
    if (h.noise_std() == 0) return y;
    return y + draw_noise(source, y.shape(), seed, random_purpose("restoration/measurement"),
                          static_cast<std::uint64_t>(first), 0) *
                   static_cast<float>(h.noise_std());
}

double measurement_consistency(const measurement& h, const tensor& x, const tensor& y) {
    const std::vector<float> hx = h.apply(x).to_vector(), yv = y.contiguous().to_vector();
    double squared = 0;
    for (std::size_t i = 0; i < hx.size(); ++i) squared += std::pow(static_cast<double>(hx[i]) - yv[i], 2);
    return std::sqrt(squared / static_cast<double>(hx.size()));
}

std::int64_t upsampling_factor(const shape_t& measured, const shape_t& image) {
    if (measured.size() != 3 || image.size() != 3 || measured[0] != image[0] || measured[1] <= 0 || measured[2] <= 0)
        return 0;
    const std::int64_t k = image[1] / measured[1];
    return k * measured[1] == image[1] && k * measured[2] == image[2] ? k : 0;
}

tensor shown_measurement(const measurement& h, const tensor& y, const shape_t& image) {
    return upsampling_factor(h.measured_shape(), image) > 0 ? y : h.pseudo_inverse(y);
}

}  // namespace difflab::plugins
