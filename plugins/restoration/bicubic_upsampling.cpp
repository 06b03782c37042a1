// SPDX-License-Identifier: Apache-2.0
// Bicubic upsampling (Keys 1981, a = -1/2).
#include "bicubic_upsampling.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace difflab::plugins {

namespace {

/// Keys' cubic convolution kernel with a = -1/2.
double keys(double x) {
    x = std::abs(x);
    if (x <= 1) return (1.5 * x - 2.5) * x * x + 1;
    if (x < 2) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
    return 0;
}

/// For each of n k output positions along one axis: its four input indices (clamped) and weights.
struct axis_taps {
    std::vector<std::array<std::int64_t, 4>> index;
    std::vector<std::array<double, 4>> weight;
};

axis_taps taps(std::int64_t n, std::int64_t k) {
    axis_taps t;
    for (std::int64_t i = 0; i < n * k; ++i) {
        const double source = (static_cast<double>(i) + 0.5) / static_cast<double>(k) - 0.5;
        const auto left = static_cast<std::int64_t>(std::floor(source));
        std::array<std::int64_t, 4> at{};
        std::array<double, 4> w{};
        for (std::int64_t j = 0; j < 4; ++j) {
            const std::int64_t p = left - 1 + j;
            at[static_cast<std::size_t>(j)] = std::clamp<std::int64_t>(p, 0, n - 1);
            w[static_cast<std::size_t>(j)] = keys(source - static_cast<double>(p));
        }
        t.index.push_back(at);
        t.weight.push_back(w);
    }
    return t;
}

}  // namespace

tensor bicubic_upsample(const tensor& images, std::int64_t factor) {
    if (images.dim() != 4 || factor < 1)
        throw error(fmt::format("bicubic_upsample: expected images [N, C, h, w] and a factor >= 1, got {} and {}",
                                shape_text(images.shape()), factor));
    const std::int64_t planes = images.size(0) * images.size(1), h = images.size(2), w = images.size(3);
    const std::int64_t height = h * factor, width = w * factor;
    const axis_taps rows = taps(h, factor), cols = taps(w, factor);
    const std::vector<float> in = images.contiguous().to_vector();
    std::vector<float> out(static_cast<std::size_t>(planes * height * width));
    std::vector<double> across(static_cast<std::size_t>(h * width));  // rows of the input, columns upsampled
    for (std::int64_t plane = 0; plane < planes; ++plane) {
        const float* source = in.data() + plane * h * w;
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < width; ++x) {
                double v = 0;
                for (std::size_t j = 0; j < 4; ++j)
                    v += cols.weight[static_cast<std::size_t>(x)][j] *
                         source[y * w + cols.index[static_cast<std::size_t>(x)][j]];
                across[static_cast<std::size_t>(y * width + x)] = v;
            }
        float* target = out.data() + plane * height * width;
        for (std::int64_t y = 0; y < height; ++y)
            for (std::int64_t x = 0; x < width; ++x) {
                double v = 0;
                for (std::size_t j = 0; j < 4; ++j)
                    v += rows.weight[static_cast<std::size_t>(y)][j] *
                         across[static_cast<std::size_t>(rows.index[static_cast<std::size_t>(y)][j] * width + x)];
                target[y * width + x] = static_cast<float>(v);
            }
    }
    return tensor::from_vector({images.size(0), images.size(1), height, width}, out);
}

}  // namespace difflab::plugins
