// SPDX-License-Identifier: Apache-2.0
// SDEdit's stroke guides: block averages, quantization to grey levels, nearest upsampling, distances.
#include "sdedit_guides.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <doctest/doctest.h>

#include <vector>

using namespace difflab;
using namespace difflab::plugins;

TEST_CASE("a stroke guide is the block average quantized to the nearest of 4 grey levels, upsampled flat") {
    // 8 x 8, two images, 2 x 2 guide: blocks of 4 x 4.
    std::vector<float> pixels(2 * 8 * 8, -1.0f);
    const auto at = [&](int image, int row, int column) -> float& {
        return pixels[static_cast<std::size_t>(image * 64 + row * 8 + column)];
    };
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 4; ++c) at(0, r, c) = 0.2f;  // block (0, 0) of image 0: mean 0.2 -> level 2 = 1/3
    for (int r = 0; r < 4; ++r)
        for (int c = 4; c < 8; ++c) at(0, r, c) = c < 6 ? -1.0f : 1.0f;  // block (0, 1): mean 0 -> 1.5 -> level 2
    for (int r = 4; r < 8; ++r)
        for (int c = 0; c < 4; ++c) at(0, r, c) = 0.9f;  // block (1, 0): 0.9 -> 2.85 -> level 3 = 1
    for (int r = 0; r < 8; ++r)
        for (int c = 0; c < 8; ++c) at(1, r, c) = -0.5f;  // image 1: -0.5 -> 0.75 -> level 1 = -1/3
    const tensor images = tensor::from_vector({2, 1, 8, 8}, pixels);
    const stroke_guides g = make_stroke_guides(images, 2, 4);
    REQUIRE(g.coarse.shape() == shape_t{2, 1, 2, 2});
    REQUIRE(g.image.shape() == shape_t{2, 1, 8, 8});
    const std::vector<float> coarse = g.coarse.to_vector();
    const float third = 1.0f / 3.0f;
    CHECK(coarse[0] == doctest::Approx(third));
    CHECK(coarse[1] == doctest::Approx(third));
    CHECK(coarse[2] == doctest::Approx(1.0));
    CHECK(coarse[3] == doctest::Approx(-1.0));  // block (1, 1) of image 0 stays black
    for (int i = 4; i < 8; ++i) CHECK(coarse[static_cast<std::size_t>(i)] == doctest::Approx(-third));
    const std::vector<float> flat = g.image.to_vector();
    CHECK(flat[0] == coarse[0]);
    CHECK(flat[3 * 8 + 3] == coarse[0]);
    CHECK(flat[3 * 8 + 4] == coarse[1]);
    CHECK(flat[7 * 8 + 7] == coarse[3]);

    // The guide is at distance 0 from itself; image 1 is 1/6 from its level in each of the 4
    // blocks: sqrt(4 / 36) = 1/3.
    const std::vector<double> self = guide_distances(g.image, g.coarse);
    CHECK(self == std::vector<double>{0.0, 0.0});
    const std::vector<double> apart = guide_distances(images, g.coarse);
    CHECK(apart[1] == doctest::Approx(1.0 / 3).epsilon(1e-6));
}

TEST_CASE("a guide size that does not divide the image, or one grey level, is an error") {
    const tensor images = tensor::zeros({1, 1, 28, 28});
    CHECK(make_stroke_guides(images, 7, 4).coarse.shape() == shape_t{1, 1, 7, 7});
    CHECK_THROWS_WITH_AS(make_stroke_guides(images, 5, 4), doctest::Contains("multiples of the guide size 5"),
                         difflab::error);
    CHECK_THROWS_AS(make_stroke_guides(images, 7, 1), difflab::error);
}
