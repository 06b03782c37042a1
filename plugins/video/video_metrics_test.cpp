// SPDX-License-Identifier: Apache-2.0
// Tests of the video scores: frames of a batch, intensity centroids, trajectory errors, best of k.
#include "video_metrics.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// A dark video [n, 1, frames, size, size] (value -1) with one bright pixel (value 1) per frame at
/// spots[f] = (row, column).
tensor dots(std::int64_t frames, std::int64_t size, const std::vector<std::array<std::int64_t, 2>>& spots) {
    std::vector<float> v(static_cast<std::size_t>(frames * size * size), -1.0f);
    for (std::int64_t f = 0; f < frames; ++f)
        v[static_cast<std::size_t>((f * size + spots[f][0]) * size + spots[f][1])] = 1.0f;
    return tensor::from_vector({1, 1, frames, size, size}, v);
}

}  // namespace

TEST_CASE("frame_batch takes frame f of every video") {
    std::vector<float> v(2 * 3 * 2 * 2);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    const tensor videos = tensor::from_vector({2, 1, 3, 2, 2}, v);
    CHECK(frame_batch(videos, 1).shape() == shape_t{2, 1, 2, 2});
    CHECK(frame_batch(videos, 1).to_vector() == std::vector<float>{4, 5, 6, 7, 16, 17, 18, 19});
    CHECK_THROWS_AS(frame_batch(videos, 3), error);
}

TEST_CASE("intensity centroids: a single pixel, two pixels, and the centre of a dark frame") {
    const tensor one = dots(1, 5, {{{1, 3}}});
    const auto c = intensity_centroid(one.reshape({1, 5, 5}));
    CHECK(c[0] == doctest::Approx(1.0));
    CHECK(c[1] == doctest::Approx(3.0));
    std::vector<float> two(25, -1.0f);
    two[0] = 1.0f;   // (0, 0)
    two[24] = 0.0f;  // (4, 4) at half intensity
    const auto d = intensity_centroid(tensor::from_vector({1, 5, 5}, two));
    CHECK(d[0] == doctest::Approx(4.0 * 0.5 / 1.5));
    CHECK(d[1] == doctest::Approx(4.0 * 0.5 / 1.5));
    const auto dark = intensity_centroid(tensor::full({1, 4, 6}, -1.0f));
    CHECK(dark[0] == doctest::Approx(1.5));
    CHECK(dark[1] == doctest::Approx(2.5));
}

TEST_CASE("centroid errors: the distance between the sample's and the truth's garment, per generated frame") {
    const tensor truth = dots(3, 8, {{{1, 1}}, {{2, 2}}, {{3, 3}}});
    const tensor sample = dots(3, 8, {{{1, 1}}, {{2, 5}}, {{7, 6}}});
    const auto errors = centroid_errors(sample, truth, {1, 2});
    REQUIRE(errors.size() == 1);
    REQUIRE(errors[0].size() == 2);
    CHECK(errors[0][0] == doctest::Approx(3.0));
    CHECK(errors[0][1] == doctest::Approx(5.0));  // a 4-3-5 triangle
    CHECK(centroid_errors(truth, truth, {0, 1, 2})[0] == std::vector<double>{0, 0, 0});
}

TEST_CASE("best of k picks each video's best draw, then averages over videos") {
    // 2 videos, 3 draws: sample s is draw s / 2 of video s % 2.
    const std::vector<double> values{1, 10, 5, 2, 3, 7};
    CHECK(best_of_draws(values, 2, true) == doctest::Approx((5 + 10) / 2.0));
    CHECK(best_of_draws(values, 2, false) == doctest::Approx((1 + 2) / 2.0));
    CHECK(best_of_draws(values, 6, true) == doctest::Approx(mean_of(values)));
    CHECK_THROWS_AS(best_of_draws(values, 4, true), error);
}
