// SPDX-License-Identifier: Apache-2.0
// Label maps as colors and as palette PNGs.
#include "label_palette.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// A color of palette_images as a byte, from [-1, 1].
int byte_of(float value) {
    return static_cast<int>(std::lround((value + 1.0f) * 127.5f));
}

}  // namespace

TEST_CASE("label maps get black background, tab10 classes that repeat after ten, and white for no class") {
    const tensor labels = tensor::from_vector({1, 1, 1, 4}, {0, 1, 11, -1});
    const std::vector<float> rgb = palette_images(labels).to_vector();  // [1, 3, 1, 4]
    const auto color = [&](int p) {
        return std::vector<int>{byte_of(rgb[p]), byte_of(rgb[4 + p]), byte_of(rgb[8 + p])};
    };
    CHECK(color(0) == std::vector<int>{0, 0, 0});
    CHECK(color(1) == std::vector<int>{31, 119, 180});  // tab10's first color
    CHECK(color(2) == color(1));                        // class 11 wraps to class 1's color
    CHECK(color(3) == std::vector<int>{255, 255, 255});
}

TEST_CASE("a label grid keeps the ids where image_grid puts the tiles, with a palette entry per id") {
    // Three 2x2 maps, two to a row, padding 1: tile k at x = 1 + 3 (k % 2), y = 1 + 3 (k / 2).
    const tensor labels = tensor::from_vector({3, 1, 2, 2}, {1, 1, 1, 1, 0, 2, 3, 0, 3, 3, 3, 3});
    const indexed_image grid = label_grid(labels, 2, 1);
    CHECK(grid.width == 7);
    CHECK(grid.height == 7);
    const auto at = [&](int x, int y) { return static_cast<int>(grid.indices[static_cast<std::size_t>(y * 7 + x)]); };
    CHECK(at(1, 1) == 1);
    CHECK(at(2, 2) == 1);
    CHECK(at(5, 1) == 2);                   // second map, (x 1, y 0)
    CHECK(at(4, 2) == 3);                   // second map, (x 0, y 1)
    CHECK(at(1, 4) == 3);                   // third map
    CHECK(at(0, 0) == 0);                   // padding
    CHECK(at(4, 4) == 0);                   // the empty fourth tile
    REQUIRE(grid.palette.size() == 4 * 3);  // ids 0..3
    const tensor shown = palette_images(tensor::from_vector({1, 1, 1, 1}, {3}));
    const std::vector<float> rgb = shown.to_vector();
    for (int c = 0; c < 3; ++c)
        CHECK(static_cast<int>(grid.palette[static_cast<std::size_t>(9 + c)]) == byte_of(rgb[c]));
    CHECK_FALSE(encode_indexed_png(grid).empty());

    CHECK_THROWS_WITH_AS(label_grid(tensor::from_vector({1, 1, 1, 2}, {0, -1}), 1),
                         doctest::Contains("label -1 of map 0 is no class id 0..255"), error);
}
