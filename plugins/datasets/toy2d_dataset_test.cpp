// SPDX-License-Identifier: Apache-2.0
// Tests of the 'toy2d' dataset: the geometry of each shape, its moments, batch independence.
#include "toy2d_dataset.h"

#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <numeric>

using namespace difflab;
using difflab::plugins::toy2d_dataset;

namespace {

std::vector<std::int64_t> range(std::int64_t first, std::int64_t count) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(count));
    std::iota(out.begin(), out.end(), first);
    return out;
}

struct points {
    std::vector<double> x, y;
    std::vector<int> label;
};

/// The examples mapped back to the shape's own coordinates.
points raw_points(const toy2d_dataset& data, std::int64_t n) {
    const auto batch = data.get(range(0, n));
    const auto v = batch.x.to_vector(), l = batch.labels.to_vector();
    points out;
    for (std::int64_t i = 0; i < n; ++i) {
        out.x.push_back(v[static_cast<std::size_t>(2 * i)] / data.scale() + data.center()[0]);
        out.y.push_back(v[static_cast<std::size_t>(2 * i + 1)] / data.scale() + data.center()[1]);
        out.label.push_back(static_cast<int>(l[static_cast<std::size_t>(i)]));
    }
    return out;
}

}  // namespace

TEST_CASE("every shape is centered with unit average variance plus its noise") {
    const std::int64_t n = 40000;
    for (const char* kind : {"moons", "swiss_roll", "checkerboard", "rings"}) {
        for (double noise : {0.0, 0.3}) {
            CAPTURE(kind);
            CAPTURE(noise);
            const auto data = testing::build<toy2d_dataset>(
                fmt::format("{{kind: {}, size: {}, noise: {}, seed: 1}}", kind, n, noise));
            const auto v = data.get(range(0, n)).x.to_vector();
            double mean[2] = {0, 0}, square[2] = {0, 0};
            for (std::int64_t i = 0; i < n; ++i)
                for (int d = 0; d < 2; ++d) {
                    mean[d] += v[static_cast<std::size_t>(2 * i + d)] / static_cast<double>(n);
                    square[d] += std::pow(v[static_cast<std::size_t>(2 * i + d)], 2) / static_cast<double>(n);
                }
            // Per-axis variances are at most ~1.5, so 5 standard errors of a mean are < 0.04.
            CHECK(std::abs(mean[0]) < 0.04);
            CHECK(std::abs(mean[1]) < 0.04);
            const double variance = (square[0] - mean[0] * mean[0] + square[1] - mean[1] * mean[1]) / 2;
            CHECK(variance == doctest::Approx(1 + noise * noise).epsilon(0.03));
        }
    }
}

TEST_CASE("noiseless shapes have their exact geometry") {
    const std::int64_t n = 4000;
    SUBCASE("rings: four radii, a quarter of the points each") {
        const auto p = raw_points(testing::build<toy2d_dataset>("{kind: rings, noise: 0}"), n);
        int counts[4] = {0, 0, 0, 0};
        for (std::int64_t i = 0; i < n; ++i) {
            const int k = p.label[static_cast<std::size_t>(i)];
            REQUIRE(k >= 0);
            REQUIRE(k < 4);
            ++counts[k];
            CHECK(std::hypot(p.x[static_cast<std::size_t>(i)], p.y[static_cast<std::size_t>(i)]) ==
                  doctest::Approx((k + 1) / 4.0).epsilon(1e-5));
        }
        for (int c : counts) CHECK(c == doctest::Approx(n / 4.0).epsilon(0.1));
    }
    SUBCASE("checkerboard: only the 8 squares where column + row is even") {
        const auto p = raw_points(testing::build<toy2d_dataset>("{kind: checkerboard, noise: 0}"), n);
        int counts[8] = {};
        for (std::int64_t i = 0; i < n; ++i) {
            const double x = p.x[static_cast<std::size_t>(i)], y = p.y[static_cast<std::size_t>(i)];
            CHECK(x >= -2 - 1e-5);
            CHECK(x < 2 + 1e-5);
            CHECK(y >= -2 - 1e-5);
            CHECK(y < 2 + 1e-5);
            // Away from the edges (float rounding), the square's parity is even.
            const double fx = std::floor(x), fy = std::floor(y);
            if (x - fx > 1e-4 && fx + 1 - x > 1e-4 && y - fy > 1e-4 && fy + 1 - y > 1e-4)
                CHECK(static_cast<long>(fx + fy) % 2 == 0);
            ++counts[p.label[static_cast<std::size_t>(i)]];
        }
        for (int c : counts) CHECK(c == doctest::Approx(n / 8.0).epsilon(0.15));
    }
    SUBCASE("moons: unit half circles, the lower one shifted by (1, -1/2)") {
        const auto p = raw_points(testing::build<toy2d_dataset>("{kind: moons, noise: 0}"), n);
        int lower = 0;
        for (std::int64_t i = 0; i < n; ++i) {
            const double x = p.x[static_cast<std::size_t>(i)], y = p.y[static_cast<std::size_t>(i)];
            if (p.label[static_cast<std::size_t>(i)] == 0) {
                CHECK(std::hypot(x, y) == doctest::Approx(1).epsilon(1e-5));
                CHECK(y > -1e-5);
            } else {
                ++lower;
                CHECK(std::hypot(x - 1, y - 0.5) == doctest::Approx(1).epsilon(1e-5));
                CHECK(y < 0.5 + 1e-5);
            }
        }
        CHECK(lower == doctest::Approx(n / 2.0).epsilon(0.1));
    }
    SUBCASE("swiss roll: points (t cos t, t sin t) with t in [1.5 pi, 4.5 pi]") {
        const auto p = raw_points(testing::build<toy2d_dataset>("{kind: swiss_roll, noise: 0}"), n);
        const double pi = 3.14159265358979323846;
        for (std::int64_t i = 0; i < n; ++i) {
            const double x = p.x[static_cast<std::size_t>(i)], y = p.y[static_cast<std::size_t>(i)];
            const double t = std::hypot(x, y);
            CHECK(t > 1.5 * pi - 1e-3);
            CHECK(t < 4.5 * pi + 1e-3);
            // The angle of the point is t itself (mod 2 pi).
            CHECK(std::abs(std::remainder(std::atan2(y, x) - t, 2 * pi)) < 1e-3);
        }
    }
}

TEST_CASE("example i is the same in any batch and seeds differ") {
    const auto data = testing::build<toy2d_dataset>("{kind: moons, seed: 4}");
    const auto whole = data.get(range(0, 10)).x.to_vector();
    const auto part = data.get({7, 3}).x.to_vector();
    CHECK(part[0] == whole[14]);
    CHECK(part[1] == whole[15]);
    CHECK(part[2] == whole[6]);
    CHECK(part[3] == whole[7]);
    const auto other = testing::build<toy2d_dataset>("{kind: moons, seed: 5}").get(range(0, 10)).x.to_vector();
    CHECK(other != whole);
    CHECK_THROWS_WITH_AS(testing::build<toy2d_dataset>("{size: 4}").get({4}),
                         "error: toy2d: example index 4 is out of range [0, 4)", error);
}
