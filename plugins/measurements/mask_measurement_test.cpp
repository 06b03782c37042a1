// SPDX-License-Identifier: Apache-2.0
// Tests of the 'mask' measurement.
#include "mask_measurement.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "measurement_checks.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

// The missing pixels of channel 0 as text rows, '.' observed and 'x' missing.
std::vector<std::string> picture(const mask_measurement& h) {
    const shape_t& shape = h.example_shape();
    const std::vector<float> keep = h.observed().to_vector();
    std::vector<std::string> rows;
    for (std::int64_t r = 0; r < shape[1]; ++r) {
        std::string line;
        for (std::int64_t c = 0; c < shape[2]; ++c)
            line += keep[static_cast<std::size_t>(r * shape[2] + c)] ? '.' : 'x';
        rows.push_back(line);
    }
    return rows;
}

std::int64_t missing_count(const mask_measurement& h) {
    std::int64_t count = 0;
    for (float v : h.observed().to_vector()) count += v == 0.0f;
    return count;
}

}  // namespace

TEST_CASE("mask satisfies the measurement algebra for every kind of region") {
    for (const std::string yaml : {"{missing: center}", "{missing: box, box: [1, 2, 3, 4]}", "{missing: left_half}",
                                   "{missing: bottom_half}", "{missing: random, fraction: 0.4, seed: 3}"}) {
        CAPTURE(yaml);
        checks::check_algebra(*checks::bound<mask_measurement>(yaml, {2, 8, 8}));
    }
    checks::check_algebra(*checks::bound<mask_measurement>("{missing: random, fraction: 0.4}", {5}));
    checks::check_algebra(*checks::bound<mask_measurement>("{missing: right_half}", {5}));
}

TEST_CASE("mask zeroes exactly the missing pixels, in every channel, and keeps the rest") {
    const auto h = checks::bound<mask_measurement>("{missing: center}", {2, 8, 8});
    CHECK(h->measured_shape() == shape_t{2, 8, 8});
    const tensor x = checks::random_batch(3, {2, 8, 8}, 5);
    const std::vector<float> in = x.to_vector(), out = h->apply(x).to_vector();
    for (std::size_t i = 0; i < in.size(); ++i) {
        const std::int64_t r = static_cast<std::int64_t>(i / 8) % 8, c = static_cast<std::int64_t>(i % 8);
        const bool missing = r >= 2 && r < 6 && c >= 2 && c < 6;
        CHECK(out[i] == (missing ? 0.0f : in[i]));
    }
    // H^T y = H^+ y = y on observed pixels: replacement inpainting reads y back.
    CHECK(h->adjoint(h->apply(x)).to_vector() == out);
    CHECK(h->pseudo_inverse(h->apply(x)).to_vector() == out);
    // The singular values: 1 per observed entry (2 x 48), then 0 per missing one.
    const std::vector<double>& s = h->singular_values();
    CHECK(std::count(s.begin(), s.end(), 1.0) == 96);
    CHECK(std::count(s.begin(), s.end(), 0.0) == 32);
}

TEST_CASE("mask regions cover the documented pixels") {
    CHECK(picture(*checks::bound<mask_measurement>("{missing: center}", {1, 4, 6})) ==
          std::vector<std::string>{"......", ".xxx..", ".xxx..", "......"});
    CHECK(picture(*checks::bound<mask_measurement>("{missing: box, box: [0, 4, 2, 1]}", {1, 3, 5})) ==
          std::vector<std::string>{"....x", "....x", "....."});
    CHECK(picture(*checks::bound<mask_measurement>("{missing: left_half}", {1, 2, 5})) ==
          std::vector<std::string>{"xx...", "xx..."});
    CHECK(picture(*checks::bound<mask_measurement>("{missing: right_half}", {1, 2, 5})) ==
          std::vector<std::string>{"...xx", "...xx"});
    CHECK(picture(*checks::bound<mask_measurement>("{missing: top_half}", {1, 3, 2})) ==
          std::vector<std::string>{"xx", "..", ".."});
    CHECK(picture(*checks::bound<mask_measurement>("{missing: bottom_half}", {1, 3, 2})) ==
          std::vector<std::string>{"..", "..", "xx"});
    CHECK(checks::bound<mask_measurement>("{missing: left_half}", {5})->observed().to_vector() ==
          std::vector<float>{0, 0, 1, 1, 1});
}

TEST_CASE("a random mask misses the requested fraction, the same in every channel, keyed by its seed") {
    const auto h = checks::bound<mask_measurement>("{missing: random, fraction: 0.3, seed: 7}", {3, 20, 20});
    CHECK(missing_count(*h) == 3 * 120);  // round(0.3 * 400) pixels in each channel
    const std::vector<float> keep = h->observed().to_vector();
    CHECK(std::vector<float>(keep.begin(), keep.begin() + 400) == std::vector<float>(keep.begin() + 800, keep.end()));
    const auto again = checks::bound<mask_measurement>("{missing: random, fraction: 0.3, seed: 7}", {3, 20, 20});
    CHECK(again->observed().to_vector() == keep);
    const auto other = checks::bound<mask_measurement>("{missing: random, fraction: 0.3, seed: 8}", {3, 20, 20});
    CHECK(missing_count(*other) == 3 * 120);
    CHECK(other->observed().to_vector() != keep);
    // seed -1 takes the experiment's seed (0 in tests).
    const auto experiment = checks::bound<mask_measurement>("{missing: random, fraction: 0.3}", {3, 20, 20});
    const auto zero = checks::bound<mask_measurement>("{missing: random, fraction: 0.3, seed: 0}", {3, 20, 20});
    CHECK(experiment->observed().to_vector() == zero->observed().to_vector());
    CHECK(missing_count(*checks::bound<mask_measurement>("{missing: random, fraction: 0.5}", {5})) == 3);  // 2.5 -> 3
}

TEST_CASE("set_mask takes a task's own mask, shared by the channels or one per channel") {
    auto h = checks::bound<mask_measurement>("{}", {2, 2, 3});
    h->set_mask(tensor::from_vector({1, 2, 3}, {1, 0, 1, 0, 1, 1}));  // rebinds at once
    CHECK(h->observed().to_vector() == std::vector<float>{1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1});
    checks::check_algebra(*h);
    const std::vector<float> per_channel{1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    h->set_mask(tensor::from_vector({2, 2, 3}, per_channel));
    CHECK(h->observed().to_vector() == per_channel);
    CHECK(h->singular_values() == std::vector<double>{1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0});
    checks::check_algebra(*h);

    auto points = std::make_unique<mask_measurement>(mask_measurement::options{}, testing::test_context());
    points->set_mask(tensor::from_vector({4}, {0, 1, 1, 0}));  // before bind: read by bind
    points->bind({4});
    CHECK(points->observed().to_vector() == std::vector<float>{0, 1, 1, 0});
}

TEST_CASE("mask refuses masks and regions that do not fit the examples") {
    auto h = checks::bound<mask_measurement>("{}", {2, 2, 3});
    const std::vector<float> before = h->observed().to_vector();
    CHECK(before == std::vector<float>{1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1});  // the 1x1 center of 2x3
    CHECK_THROWS_WITH_AS(h->set_mask(tensor::from_vector({1, 2, 2}, {1, 0, 1, 0})),
                         "error: measurement 'mask': the mask set has shape [1, 2, 2] but the examples are [2, 2, 3]; "
                         "set a mask of the example's shape or [1, H, W]",
                         config_error);
    CHECK(h->observed().to_vector() == before);  // the operator is as it was
    CHECK_THROWS_WITH_AS(h->set_mask(tensor::from_vector({1, 2, 3}, {1, 0, 0.5f, 0, 1, 1})),
                         "error: measurement 'mask': the mask set holds the value 0.5; masks hold 1 (observed) and 0 "
                         "(missing) only",
                         config_error);
    CHECK_THROWS_WITH_AS(checks::bound<mask_measurement>("{missing: box, box: [2, 2, 4, 4]}", {1, 4, 8}),
                         "error: measurement 'mask': box [2, 2, 4, 4] reaches outside the 4x8 images of examples "
                         "[1, 4, 8]; choose a box inside them",
                         config_error);
    CHECK_THROWS_WITH_AS(checks::bound<mask_measurement>("{missing: center}", {5}),
                         "error: measurement 'mask': missing: center needs images [C, H, W], not examples of shape "
                         "[5]; use left_half, right_half or random on points",
                         config_error);
    CHECK_THROWS_WITH_AS(checks::bound<mask_measurement>("{missing: box}", {1, 4, 4}),
                         "error: measurement 'mask': missing: box needs box: [top, left, height, width], got 0 values; "
                         "give the four",
                         config_error);
    CHECK_THROWS_WITH_AS(checks::bound<mask_measurement>("{box: [0, 0, 1, 1]}", {1, 4, 4}),
                         "error: measurement 'mask': box is set but missing is 'center'; set missing: box, or drop box",
                         config_error);
    CHECK_THROWS_AS(checks::bound<mask_measurement>("{missing: corner}", {1, 4, 4}), config_error);
    CHECK_THROWS_AS(checks::bound<mask_measurement>("{missing: random, fraction: 1.5}", {1, 4, 4}), config_error);
}

TEST_CASE("mask with observed_frames observes whole frames of a video and nothing else") {
    const auto h = checks::bound<mask_measurement>("{observed_frames: [0, 1, 3]}", {2, 4, 3, 3});
    checks::check_algebra(*h);
    const std::vector<float> keep = h->observed().to_vector();
    for (std::size_t i = 0; i < keep.size(); ++i) {
        const std::size_t frame = (i / 9) % 4;  // [C, F, H, W] row-major
        CHECK(keep[i] == (frame == 2 ? 0.0f : 1.0f));
    }
    CHECK_THROWS_WITH_AS(checks::bound<mask_measurement>("{observed_frames: [0, 4]}", {1, 4, 3, 3}),
                         "error: measurement 'mask': observed_frames lists frame 4, but the videos have 4 frames "
                         "(0..3); list frames that exist",
                         config_error);
    CHECK_THROWS_WITH_AS(checks::bound<mask_measurement>("{observed_frames: [0]}", {1, 3, 3}),
                         "error: measurement 'mask': observed_frames needs videos [C, F, H, W], not examples of "
                         "shape [1, 3, 3]; drop observed_frames for images and points",
                         config_error);
}
