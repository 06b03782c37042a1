// SPDX-License-Identifier: Apache-2.0
// Inputs per pixel and the pixels to learn.
#include "pixel_inputs.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab::plugins {

tensor pixels_with_coordinates(const tensor& images) {
    if (images.dim() != 4)
        throw error(fmt::format("pixels_with_coordinates: expects [N, C, H, W], got {}", shape_text(images.shape())));
    const std::int64_t n = images.size(0), height = images.size(2), width = images.size(3);
    std::vector<float> rows(static_cast<std::size_t>(height * width)), columns(rows.size());
    const auto position = [](std::int64_t i, std::int64_t size) {
        return size == 1 ? 0.0f : 2.0f * static_cast<float>(i) / static_cast<float>(size - 1) - 1.0f;
    };
    for (std::int64_t y = 0; y < height; ++y)
        for (std::int64_t x = 0; x < width; ++x) {
            rows[static_cast<std::size_t>(y * width + x)] = position(y, height);
            columns[static_cast<std::size_t>(y * width + x)] = position(x, width);
        }
    const tensor row = tensor::from_vector({1, 1, height, width}, rows),
                 column = tensor::from_vector({1, 1, height, width}, columns);
    std::vector<tensor> rows_n(static_cast<std::size_t>(n), row), columns_n(static_cast<std::size_t>(n), column);
    return concat({images.contiguous(), concat(rows_n, 0), concat(columns_n, 0)}, 1).contiguous();
}

tensor pixel_rows(const tensor& maps) {
    if (maps.dim() != 4) throw error(fmt::format("pixel_rows: expects [N, F, H, W], got {}", shape_text(maps.shape())));
    return maps.permute({0, 2, 3, 1}).contiguous().reshape({maps.size(0) * maps.size(2) * maps.size(3), maps.size(1)});
}

std::vector<std::int64_t> trained_pixels(const tensor& labels, std::int64_t classes, std::int64_t min_region) {
    if (labels.dim() != 4 || labels.size(1) != 1)
        throw error(fmt::format("trained_pixels: expects label maps [N, 1, H, W], got {}", shape_text(labels.shape())));
    const std::int64_t n = labels.size(0), plane = labels.size(2) * labels.size(3);
    const std::vector<float> ids = labels.contiguous().to_vector();
    std::vector<std::int64_t> kept;
    for (std::int64_t i = 0; i < n; ++i) {
        std::vector<std::int64_t> count(static_cast<std::size_t>(classes), 0);
        for (std::int64_t p = 0; p < plane; ++p) {
            const long id = std::lround(ids[static_cast<std::size_t>(i * plane + p)]);
            if (id < 0 || id >= classes)
                throw error(
                    fmt::format("trained_pixels: label {} of image {} is not a class id below {}", id, i, classes));
            ++count[static_cast<std::size_t>(id)];
        }
        for (std::int64_t p = 0; p < plane; ++p) {
            const long id = std::lround(ids[static_cast<std::size_t>(i * plane + p)]);
            if (count[static_cast<std::size_t>(id)] >= min_region) kept.push_back(i * plane + p);
        }
    }
    return kept;
}

}  // namespace difflab::plugins
