// SPDX-License-Identifier: Apache-2.0
// Tests of the 'resize' measurement.
#include "resize_measurement.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <vector>

#include "measurement_checks.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

// Row `r` of channel 0 of example 0 of H applied to an image that is 1 on column `column` only.
std::vector<float> response_to_column(const resize_measurement& h, std::int64_t column, std::int64_t r) {
    const shape_t& shape = h.example_shape();
    std::vector<float> x(static_cast<std::size_t>(shape_numel(shape)), 0.0f);
    for (std::int64_t i = 0; i < shape_numel(shape); ++i)
        if (i % shape[2] == column) x[static_cast<std::size_t>(i)] = 1.0f;
    const std::vector<float> y = h.apply(tensor::from_vector(checks::batch_shape(1, shape), x)).to_vector();
    const std::int64_t width = h.measured_shape()[2];
    return std::vector<float>(y.begin() + r * width, y.begin() + (r + 1) * width);
}

}  // namespace

TEST_CASE("resize satisfies the measurement algebra") {
    for (const std::string yaml : {"{factor: 2}", "{factor: 2, kernel: linear}", "{factor: 4}", "{factor: 1}"}) {
        CAPTURE(yaml);
        checks::check_algebra(*checks::bound<resize_measurement>(yaml, {2, 8, 8}));
    }
    checks::check_algebra(*checks::bound<resize_measurement>("{factor: 4}", {1, 8, 12}));
}

TEST_CASE("resize weighs with the antialiased cubic of ILVR's resizer, mirrored at the edges") {
    const auto h = checks::bound<resize_measurement>("{factor: 2}", {1, 16, 16});
    CHECK(h->measured_shape() == shape_t{1, 8, 8});
    // Keys' cubic at half the distance, normalized: output i (at input 2i + 1/2) weighs input 8
    // with -0.01171875, 0.11328125, 0.43359375, -0.03515625 for i = 2, 3, 4, 5 (distances 3.5,
    // 1.5, 0.5, 2.5); a vertical line stays 1 along the columns.
    const std::vector<float> line = response_to_column(*h, 8, 3);
    CHECK(line[2] == doctest::Approx(-0.01171875).epsilon(1e-6));
    CHECK(line[3] == doctest::Approx(0.11328125).epsilon(1e-6));
    CHECK(line[4] == doctest::Approx(0.43359375).epsilon(1e-6));
    CHECK(line[5] == doctest::Approx(-0.03515625).epsilon(1e-6));
    CHECK(line[0] == 0.0f);
    CHECK(line[7] == 0.0f);
    // At the edge the taps at -1, -2, -3 read columns 0, 1, 2: column 0 gets 0.43359375 + 0.11328125.
    CHECK(response_to_column(*h, 0, 3)[0] == doctest::Approx(0.546875).epsilon(1e-6));
    CHECK(response_to_column(*h, 1, 3)[0] == doctest::Approx(0.3984375).epsilon(1e-6));
    CHECK(response_to_column(*h, 2, 3)[0] == doctest::Approx(0.1015625).epsilon(1e-6));
    // Rows sum to 1: a constant stays that constant.
    const std::vector<float> constant = h->apply(tensor::full({2, 1, 16, 16}, -0.5f)).to_vector();
    for (float v : constant) CHECK(v == doctest::Approx(-0.5).epsilon(1e-6));
    // The linear kernel at factor 2: the hat at distances 0.25 and 0.75 of the stretched kernel.
    const auto linear = checks::bound<resize_measurement>("{factor: 2, kernel: linear}", {1, 16, 16});
    const std::vector<float> hat = response_to_column(*linear, 8, 3);
    CHECK(hat[3] == doctest::Approx(0.125).epsilon(1e-6));
    CHECK(hat[4] == doctest::Approx(0.375).epsilon(1e-6));
    // Factor 1 is the identity.
    const tensor x = checks::random_batch(2, {1, 4, 4}, 3);
    CHECK(testing::relative_error(checks::bound<resize_measurement>("{factor: 1}", {1, 4, 4})->apply(x), x) < 1e-7);
}

TEST_CASE("resize's pseudo-inverse gives ILVR's low-pass filter as a projection") {
    const auto h = checks::bound<resize_measurement>("{factor: 2}", {1, 8, 8});
    const tensor x = checks::random_batch(2, {1, 8, 8}, 6), low = h->pseudo_inverse(h->apply(x));
    CHECK(testing::relative_error(h->pseudo_inverse(h->apply(low)), low) < 1e-5);  // idempotent
    CHECK(testing::relative_error(h->apply(low), h->apply(x)) < 1e-5);             // y is kept
}

TEST_CASE("resize refuses sides that are not multiples of the factor, naming the shape and the fix") {
    auto h =
        std::make_unique<resize_measurement>(resize_measurement::options{2, "cubic", 0.0}, testing::test_context());
    CHECK_THROWS_WITH_AS(h->bind({2, 8, 7}),
                         "error: measurement 'resize': examples [2, 8, 7] have a side of 7 pixels, not a multiple of "
                         "factor 2; choose a factor that divides the height and width, or resize the data",
                         config_error);
    CHECK_THROWS_AS(h->bind({64}), config_error);
    CHECK_THROWS_AS(checks::bound<resize_measurement>("{kernel: lanczos}", {1, 8, 8}), config_error);
}
