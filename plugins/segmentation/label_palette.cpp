// SPDX-License-Identifier: Apache-2.0
// Label maps as colors.
#include "label_palette.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <array>
#include <cmath>

namespace difflab::plugins {

namespace {

// matplotlib's tab10, 0..255.
constexpr std::array<std::array<int, 3>, 10> tab10{{{31, 119, 180},
                                                    {255, 127, 14},
                                                    {44, 160, 44},
                                                    {214, 39, 40},
                                                    {148, 103, 189},
                                                    {140, 86, 75},
                                                    {227, 119, 194},
                                                    {127, 127, 127},
                                                    {188, 189, 34},
                                                    {23, 190, 207}}};

void check_maps(const tensor& t, const char* what) {
    if (t.dim() != 4 || t.size(1) != 1)
        throw error(fmt::format("{}: expects [N, 1, H, W], got {}", what, shape_text(t.shape())));
}

}  // namespace

tensor palette_images(const tensor& labels) {
    check_maps(labels, "palette_images");
    const std::int64_t n = labels.size(0), plane = labels.size(2) * labels.size(3);
    const std::vector<float> ids = labels.contiguous().to_vector();
    std::vector<float> rgb(static_cast<std::size_t>(n * 3 * plane));
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t p = 0; p < plane; ++p) {
            const long id = std::lround(ids[static_cast<std::size_t>(i * plane + p)]);
            for (std::int64_t c = 0; c < 3; ++c) {
                const int value = id < 0 ? 255 : id == 0 ? 0 : tab10[static_cast<std::size_t>((id - 1) % 10)][c];
                rgb[static_cast<std::size_t>((i * 3 + c) * plane + p)] = static_cast<float>(value) / 127.5f - 1.0f;
            }
        }
    return tensor::from_vector({n, 3, labels.size(2), labels.size(3)}, rgb);
}

tensor gray_as_rgb(const tensor& images) {
    check_maps(images, "gray_as_rgb");
    return concat({images, images, images}, 1).contiguous();
}

}  // namespace difflab::plugins
