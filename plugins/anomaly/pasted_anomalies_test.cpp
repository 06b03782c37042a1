// SPDX-License-Identifier: Apache-2.0
// Pasted anomalies: counted pixels, the square's value, the patch's source, keyed choices.
#include "pasted_anomalies.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// n images of h x w whose pixel values encode (image, row, column), in [-1, 1].
tensor numbered(std::int64_t n, std::int64_t h, std::int64_t w) {
    std::vector<float> v(static_cast<std::size_t>(n * h * w));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) / static_cast<float>(v.size()) * 2 - 1;
    return tensor::from_vector({n, 1, h, w}, v);
}

}  // namespace

TEST_CASE("each anomalous image gets exactly one size x size anomaly, marked in its mask and label") {
    const std::int64_t n = 200, size = 5;
    const anomalous_images a = paste_anomalies(numbered(n, 12, 12), "square", size, 0.3, 7);
    const std::vector<float> masks = a.masks.to_vector(), labels = a.labels.to_vector();
    std::int64_t anomalous = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        double marked = 0;
        for (std::int64_t p = 0; p < 144; ++p) marked += masks[static_cast<std::size_t>(i * 144 + p)];
        CHECK(marked == (labels[static_cast<std::size_t>(i)] > 0 ? size * size : 0));
        anomalous += labels[static_cast<std::size_t>(i)] > 0;
    }
    // 0.3 of 200: 60, binomial standard deviation 6.5.
    CHECK(anomalous > 40);
    CHECK(anomalous < 80);
}

TEST_CASE("a square takes the value, -1 or 1, farther from what it covers, pixels outside stay") {
    for (const float background : {-1.0f, 0.8f}) {
        CAPTURE(background);
        const tensor flat = tensor::full({4, 1, 10, 10}, background);
        const anomalous_images a = paste_anomalies(flat, "square", 4, 1.0, 3);
        const std::vector<float> x = a.x.to_vector(), masks = a.masks.to_vector();
        for (std::size_t i = 0; i < x.size(); ++i)
            CHECK(x[i] == (masks[i] > 0 ? (background > 0 ? -1.0f : 1.0f) : background));
    }
}

TEST_CASE("a patch is cut from the next image of the batch") {
    const tensor images = numbered(3, 10, 10);
    const anomalous_images a = paste_anomalies(images, "patch", 3, 1.0, 5);
    const std::vector<float> x = a.x.to_vector(), source = images.to_vector(), masks = a.masks.to_vector();
    // Image 0's pasted values are consecutive rows of image 1's values (numbered encodes position).
    std::vector<float> pasted;
    for (std::size_t p = 0; p < 100; ++p)
        if (masks[p] > 0) pasted.push_back(x[p]);
    REQUIRE(pasted.size() == 9);
    const float step = source[1] - source[0];
    for (const float v : pasted) {
        const double position = (v - source[100]) / step;  // index within image 1
        CHECK(position >= -0.01);
        CHECK(position <= 99.01);
        CHECK(std::abs(position - std::round(position)) < 0.01);
    }
    CHECK(pasted[1] - pasted[0] == doctest::Approx(step).epsilon(1e-3));       // along a row
    CHECK(pasted[3] - pasted[0] == doctest::Approx(10 * step).epsilon(1e-3));  // down a column
}

TEST_CASE("an image's square anomaly depends on its index, not on its batch, errors name the problem") {
    const tensor images = numbered(8, 12, 12);
    const anomalous_images whole = paste_anomalies(images, "square", 4, 0.5, 9);
    const anomalous_images part = paste_anomalies(images.slice(0, 3, 6).contiguous(), "square", 4, 0.5, 9, 3);
    CHECK(part.masks.to_vector() == whole.masks.slice(0, 3, 6).contiguous().to_vector());
    CHECK(part.x.to_vector() == whole.x.slice(0, 3, 6).contiguous().to_vector());
    CHECK_THROWS_WITH_AS(paste_anomalies(images, "circle", 4, 0.5, 9),
                         doctest::Contains("unknown anomaly kind 'circle'"), error);
    CHECK_THROWS_WITH_AS(paste_anomalies(images, "square", 13, 0.5, 9), doctest::Contains("cannot take a 13 x 13"),
                         error);
}
