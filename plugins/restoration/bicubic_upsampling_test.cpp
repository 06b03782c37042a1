// SPDX-License-Identifier: Apache-2.0
// Bicubic upsampling: Keys' weights by hand, constants and ramps kept, shapes and errors.
#include "bicubic_upsampling.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

TEST_CASE("bicubic upsampling by 2 weights the four nearest pixels with Keys' a = -1/2") {
    // One row of 6 pixels, an impulse at 2: output pixel i sits at (i + 1/2) / 2 - 1/2, so
    // pixels 1..8 are 1.75, 1.25, 0.75, 0.25, 0.25, 0.75, 1.25, 1.75 from it, with Keys' weights
    // -0.0234375, -0.0703125, 0.2265625, 0.8671875 (worked by hand from the kernel).
    std::vector<float> impulse(6, 0.0f);
    impulse[2] = 1.0f;
    const std::vector<float> up = bicubic_upsample(tensor::from_vector({1, 1, 1, 6}, impulse), 2).to_vector();
    REQUIRE(up.size() == 24);  // 2 rows of 12; each row the same
    const double expected[12] = {0,         -0.0234375, -0.0703125, 0.2265625, 0.8671875, 0.8671875,
                                 0.2265625, -0.0703125, -0.0234375, 0,         0,         0};
    for (int i = 0; i < 12; ++i) {
        CAPTURE(i);
        CHECK(up[static_cast<std::size_t>(i)] == doctest::Approx(expected[i]).epsilon(1e-6));
        CHECK(up[static_cast<std::size_t>(12 + i)] == doctest::Approx(expected[i]).epsilon(1e-6));
    }
}

TEST_CASE("bicubic upsampling keeps constants everywhere and linear ramps away from the edges") {
    const std::int64_t n = 7, k = 4;
    std::vector<float> constant(static_cast<std::size_t>(2 * n * n), 0.3f), ramp(static_cast<std::size_t>(n * n));
    for (std::int64_t y = 0; y < n; ++y)
        for (std::int64_t x = 0; x < n; ++x) ramp[static_cast<std::size_t>(y * n + x)] = 0.1f * x - 0.05f * y;
    for (float v : bicubic_upsample(tensor::from_vector({2, 1, n, n}, constant), k).to_vector())
        CHECK(v == doctest::Approx(0.3).epsilon(1e-6));
    const std::vector<float> up = bicubic_upsample(tensor::from_vector({1, 1, n, n}, ramp), k).to_vector();
    for (std::int64_t y = 2 * k; y < (n - 2) * k; ++y)
        for (std::int64_t x = 2 * k; x < (n - 2) * k; ++x) {
            const double sx = (x + 0.5) / k - 0.5, sy = (y + 0.5) / k - 0.5;
            CHECK(up[static_cast<std::size_t>(y * n * k + x)] == doctest::Approx(0.1 * sx - 0.05 * sy).epsilon(1e-5));
        }
}

TEST_CASE("bicubic upsampling refuses what is not a batch of images") {
    CHECK_THROWS_WITH_AS(bicubic_upsample(tensor::zeros({3, 4}), 2), doctest::Contains("expected images [N, C, h, w]"),
                         error);
}
