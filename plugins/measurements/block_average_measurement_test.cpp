// SPDX-License-Identifier: Apache-2.0
// Tests of the 'block_average' measurement.
#include "block_average_measurement.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <vector>

#include "measurement_checks.h"

using namespace difflab;
using namespace difflab::plugins;

TEST_CASE("block_average satisfies the measurement algebra") {
    for (const std::string yaml : {"{factor: 1}", "{factor: 2}", "{factor: 4}"}) {
        CAPTURE(yaml);
        checks::check_algebra(*checks::bound<block_average_measurement>(yaml, {2, 8, 8}));
    }
    checks::check_algebra(*checks::bound<block_average_measurement>("{factor: 2}", {1, 4, 6}));
}

TEST_CASE("block_average takes block means, with singular values 1/k and block sums / k first in V^T x") {
    const auto h = checks::bound<block_average_measurement>("{factor: 2}", {2, 4, 4});
    CHECK(h->measured_shape() == shape_t{2, 2, 2});
    CHECK(h->singular_values() == std::vector<double>(8, 0.5));
    // A constant image is the same constant at the lower resolution.
    CHECK(h->apply(tensor::full({3, 2, 4, 4}, 0.75f)).to_vector() == std::vector<float>(24, 0.75f));
    // x = 16 c + 4 r + col: the block at (0, 0) averages 0, 1, 4, 5.
    std::vector<float> ramp(32);
    for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<float>(i);
    const tensor x = tensor::from_vector({1, 2, 4, 4}, ramp);
    const std::vector<float> means{2.5f, 4.5f, 10.5f, 12.5f, 18.5f, 20.5f, 26.5f, 28.5f};
    CHECK(h->apply(x).to_vector() == means);
    const std::vector<float> coefficients = h->v_transpose(x).to_vector();
    for (std::size_t i = 0; i < means.size(); ++i) CHECK(coefficients[i] == doctest::Approx(2 * means[i]));  // 4 m / 2
    // H^+ repeats every value over its block.
    const std::vector<float> up = h->pseudo_inverse(h->apply(x)).to_vector();
    CHECK(up[0] == 2.5f);
    CHECK(up[1] == 2.5f);
    CHECK(up[4] == 2.5f);
    CHECK(up[5] == 2.5f);
    CHECK(up[2] == 4.5f);
    CHECK(up[31] == 28.5f);
}

TEST_CASE("block_average refuses shapes that are not whole blocks, naming the shape and the fix") {
    auto h = std::make_unique<block_average_measurement>(block_average_measurement::options{2, 0.0},
                                                         testing::test_context());
    CHECK_THROWS_WITH_AS(h->bind({2, 9, 8}),
                         "error: measurement 'block_average': examples [2, 9, 8] are not a whole number of 2x2 "
                         "blocks; choose a factor that divides both 9 and 8, or resize the data",
                         config_error);
    CHECK_FALSE(h->bound());
    CHECK_THROWS_WITH_AS(h->bind({5}),
                         "error: measurement 'block_average' acts on images [C, H, W], not on examples of shape [5]; "
                         "use it on image data, or mask or identity on points",
                         config_error);
    CHECK_THROWS_AS(checks::bound<block_average_measurement>("{factor: 0}", {1, 4, 4}), config_error);
}
