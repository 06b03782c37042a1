// SPDX-License-Identifier: Apache-2.0
// SDEdit's guides.
#include "sdedit_guides.h"

#include <difflab/base/error.h>
#include <difflab/tensor/nn_ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace difflab::plugins {

tensor block_averages(const tensor& images, std::int64_t size) {
    if (!images.defined() || images.dim() != 4 || size < 1 || images.size(2) % size != 0 ||
        images.size(3) % size != 0 || images.size(2) / size != images.size(3) / size)
        throw error(
            fmt::format("stroke guides need square blocks: images [N, C, H, W] with H and W multiples of the "
                        "guide size {} by the same factor, got {}",
                        size, images.defined() ? shape_text(images.shape()) : "none"));
    const std::int64_t block = images.size(2) / size;
    return avg_pool2d(images.contiguous(), block, block).contiguous();
}

stroke_guides make_stroke_guides(const tensor& images, std::int64_t size, std::int64_t levels) {
    if (levels < 2) throw error(fmt::format("stroke guides need at least 2 grey levels, got {}", levels));
    std::vector<float> values = block_averages(images, size).to_vector();
    const auto steps = static_cast<double>(levels - 1);
    for (float& v : values) {
        const double level = std::clamp(std::round((static_cast<double>(v) + 1) / 2 * steps), 0.0, steps);
        v = static_cast<float>(-1 + 2 * level / steps);
    }
    const tensor coarse = tensor::from_vector({images.size(0), images.size(1), size, size}, values);
    return {coarse, interpolate(coarse, {images.size(2), images.size(3)}, "nearest").contiguous()};
}

std::vector<double> guide_distances(const tensor& images, const tensor& coarse) {
    const std::vector<float> a = block_averages(images, coarse.size(2)).to_vector(),
                             b = coarse.contiguous().to_vector();
    if (a.size() != b.size())
        throw error(fmt::format("guide distances: {} images for guides {}", shape_text(images.shape()),
                                shape_text(coarse.shape())));
    const std::int64_t n = images.size(0);
    const std::size_t per = a.size() / static_cast<std::size_t>(n);
    std::vector<double> out(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < out.size(); ++i) {
        double squared = 0;
        for (std::size_t j = 0; j < per; ++j) squared += std::pow(double(a[i * per + j]) - b[i * per + j], 2);
        out[i] = std::sqrt(squared);
    }
    return out;
}

}  // namespace difflab::plugins
