// SPDX-License-Identifier: Apache-2.0
// The inpainting masks: exact regions and pixel counts, the stroke brush, seeded strokes.
#include "inpainting_masks.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <doctest/doctest.h>

#include <numeric>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

std::vector<float> mask_values(const std::string& kind, std::int64_t index = 0) {
    const tensor m = inpainting_mask(kind, 28, 28, 5, index);
    REQUIRE(m.shape() == shape_t{1, 28, 28});
    return m.to_vector();
}

std::int64_t known_count(const std::vector<float>& keep) {
    return static_cast<std::int64_t>(std::accumulate(keep.begin(), keep.end(), 0.0));
}

bool known(const std::vector<float>& keep, int row, int column) {
    return keep[static_cast<std::size_t>(row * 28 + column)] == 1.0f;
}

}  // namespace

TEST_CASE("the fixed masks hide exactly their region on 28 x 28") {
    const std::vector<float> center = mask_values("center");
    CHECK(known_count(center) == 784 - 14 * 14);
    CHECK(!known(center, 7, 7));
    CHECK(!known(center, 20, 20));
    CHECK(known(center, 6, 14));
    CHECK(known(center, 21, 14));

    const std::vector<float> left = mask_values("left_half");
    CHECK(known_count(left) == 392);
    CHECK(!known(left, 27, 13));
    CHECK(known(left, 0, 14));

    const std::vector<float> expand = mask_values("expand");
    CHECK(known_count(expand) == 10 * 10);
    CHECK(known(expand, 9, 9));
    CHECK(known(expand, 18, 18));
    CHECK(!known(expand, 8, 9));
    CHECK(!known(expand, 19, 18));

    const std::vector<float> lines = mask_values("every_second_line");
    CHECK(known_count(lines) == 14 * 28);
    CHECK(known(lines, 0, 5));
    CHECK(!known(lines, 1, 5));
    CHECK(!known(lines, 27, 0));

    const std::vector<float> sparse = mask_values("nearest_x2");
    CHECK(known_count(sparse) == 14 * 14);
    CHECK(known(sparse, 0, 0));
    CHECK(known(sparse, 26, 26));
    CHECK(!known(sparse, 0, 1));
    CHECK(!known(sparse, 1, 0));
}

TEST_CASE("a stroke erases what a square brush covers along its segment") {
    std::vector<float> keep(28 * 28, 1.0f);
    erase_stroke(keep, 28, 28, 5, 10, 15, 10, 1);  // columns 5..15 of row 10
    CHECK(known_count(keep) == 784 - 11);
    CHECK(!known(keep, 10, 5));
    CHECK(!known(keep, 10, 15));
    CHECK(known(keep, 10, 16));
    std::fill(keep.begin(), keep.end(), 1.0f);
    erase_stroke(keep, 28, 28, 5, 10, 15, 10, 3);  // columns 4..16 of rows 9..11
    CHECK(known_count(keep) == 784 - 13 * 3);
    CHECK(!known(keep, 9, 4));
    CHECK(!known(keep, 11, 16));
    std::fill(keep.begin(), keep.end(), 1.0f);
    erase_stroke(keep, 28, 28, 0, 0, 0, 0, 3);  // a dot at the corner: rows and columns -1..1, clipped
    CHECK(known_count(keep) == 784 - 4);
    std::fill(keep.begin(), keep.end(), 1.0f);
    erase_stroke(keep, 28, 28, 2, 2, 6, 6, 1);  // the diagonal (2,2) .. (6,6)
    CHECK(known_count(keep) == 784 - 5);
}

TEST_CASE("stroke masks are seeded per image: the same for the same index in any batch, thick wider than thin") {
    const tensor batch = inpainting_masks("thick_strokes", 28, 28, 5, 3, 4);
    REQUIRE(batch.shape() == shape_t{4, 1, 28, 28});
    CHECK(batch.slice(0, 1, 2).contiguous().to_vector() == mask_values("thick_strokes", 4));
    CHECK(mask_values("thick_strokes", 4) != mask_values("thick_strokes", 5));
    CHECK(mask_values("thick_strokes", 4) != inpainting_mask("thick_strokes", 28, 28, 6, 4).to_vector());
    std::int64_t thick_missing = 0, thin_missing = 0;
    for (std::int64_t i = 0; i < 20; ++i) {
        const std::int64_t thick = 784 - known_count(mask_values("thick_strokes", i));
        const std::int64_t thin = 784 - known_count(mask_values("thin_strokes", i));
        CHECK(thick > 0);
        CHECK(thin > 0);
        thick_missing += thick;
        thin_missing += thin;
    }
    MESSAGE("missing pixels over 20 masks: thick " << thick_missing << ", thin " << thin_missing);
    CHECK(thick_missing > 2 * thin_missing);
    CHECK(thick_missing < 20 * 784 / 2);  // strokes, not blankets
}

TEST_CASE("an unknown mask kind and a too small image are errors that name the choices") {
    CHECK_THROWS_WITH_AS(inpainting_mask("circle", 28, 28, 0, 0), doctest::Contains("use one of center, left_half"),
                         difflab::error);
    CHECK_THROWS_AS(inpainting_mask("center", 1, 28, 0, 0), difflab::error);
}
