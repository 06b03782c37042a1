// SPDX-License-Identifier: Apache-2.0
// Label maps as colors.
#include "label_palette.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
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

/// The color of class `id`: background black, classes in tab10's colors, no class (negative) white.
int channel_of(long id, std::size_t channel) {
    return id < 0 ? 255 : id == 0 ? 0 : tab10[static_cast<std::size_t>((id - 1) % 10)][channel];
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
            for (std::int64_t c = 0; c < 3; ++c)
                rgb[static_cast<std::size_t>((i * 3 + c) * plane + p)] =
                    static_cast<float>(channel_of(id, static_cast<std::size_t>(c))) / 127.5f - 1.0f;
        }
    return tensor::from_vector({n, 3, labels.size(2), labels.size(3)}, rgb);
}

indexed_image label_grid(const tensor& labels, std::int64_t columns, std::int64_t padding) {
    check_maps(labels, "label_grid");
    if (columns < 1 || padding < 0)
        throw error(fmt::format("label_grid: needs columns >= 1 and padding >= 0, got {} and {}", columns, padding));
    const std::vector<float> ids = labels.contiguous().to_vector();
    const std::int64_t plane = labels.size(2) * labels.size(3);
    long largest = 0;
    for (std::size_t p = 0; p < ids.size(); ++p) {
        const long id = std::lround(ids[p]);
        if (id < 0 || id > 255)
            throw error(fmt::format("label_grid: label {} of map {} is no class id 0..255", id,
                                    static_cast<std::int64_t>(p) / plane));
        largest = std::max(largest, id);
    }
    // image_grid's layout, with values 0..255 mapped to the bytes 0..255: each byte is the id.
    const image tiles = image_grid(labels, columns, 0.0f, 255.0f, padding);
    indexed_image grid{tiles.width, tiles.height, tiles.pixels, {}};
    for (long id = 0; id <= largest; ++id)
        for (std::size_t c = 0; c < 3; ++c) grid.palette.push_back(static_cast<std::uint8_t>(channel_of(id, c)));
    return grid;
}

tensor gray_as_rgb(const tensor& images) {
    check_maps(images, "gray_as_rgb");
    return concat({images, images, images}, 1).contiguous();
}

}  // namespace difflab::plugins
