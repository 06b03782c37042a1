// SPDX-License-Identifier: Apache-2.0
// Tests of the 'identity' measurement and of the checks the measurement kind makes around every operator.
#include "identity_measurement.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include "measurement_checks.h"

using namespace difflab;
using namespace difflab::plugins;

TEST_CASE("identity satisfies the measurement algebra on points and images") {
    for (const shape_t& example : {shape_t{5}, shape_t{2, 8, 8}}) {
        const std::string text = shape_text(example);
        CAPTURE(text);
        const auto h = checks::bound<identity_measurement>("{}", example);
        checks::check_algebra(*h);
        CHECK(h->measured_shape() == example);
        CHECK(h->singular_values() == std::vector<double>(static_cast<std::size_t>(shape_numel(example)), 1.0));
        const tensor x = checks::random_batch(3, example, 9);
        CHECK(h->apply(x).to_vector() == x.to_vector());
        CHECK(h->pseudo_inverse(x).to_vector() == x.to_vector());
    }
}

TEST_CASE("identity reports its measurement noise, which must not be negative") {
    CHECK(checks::bound<identity_measurement>("{}", {5})->noise_std() == 0.0);
    CHECK(checks::bound<identity_measurement>("{noise_std: 0.05}", {5})->noise_std() == 0.05);
    CHECK_THROWS_AS(checks::bound<identity_measurement>("{noise_std: -1}", {5}), config_error);
}

TEST_CASE("results are new tensors, whatever the input's layout and type") {
    const auto h = checks::bound<identity_measurement>("{}", {2, 3, 4});
    const tensor x = checks::random_batch(2, {2, 3, 4}, 1);
    tensor y = h->apply(x);
    y.fill_(0.0f);
    CHECK(x.to_vector() != y.to_vector());
    const tensor channels_last = x.to_channels_last();
    CHECK(h->apply(channels_last).to_vector() == x.to_vector());
    CHECK(h->apply(x.to(dtype::bf16)).type() == dtype::f32);
}

TEST_CASE("the kind refuses an unbound operator and batches of the wrong shape") {
    const auto h = std::make_unique<identity_measurement>(identity_measurement::options{}, testing::test_context());
    CHECK_FALSE(h->bound());
    CHECK_THROWS_WITH_AS(h->apply(tensor::zeros({1, 5})),
                         "error: measurement: the operator is not bound to an example shape; call "
                         "bind(example_shape) first",
                         error);
    CHECK_THROWS_AS(h->singular_values(), error);
    CHECK_THROWS_WITH_AS(h->bind({}),
                         "error: measurement: cannot bind to the example shape []; examples need at least one "
                         "dimension and one value",
                         config_error);
    h->bind({2, 3});
    CHECK(h->bound());
    CHECK(h->example_size() == 6);
    CHECK_THROWS_WITH_AS(h->apply(tensor::zeros({4, 3, 2})),
                         "error: measurement: apply got examples x of shape [4, 3, 2]; pass a batch of shape [N, 2, 3]",
                         error);
    CHECK_THROWS_WITH_AS(h->v(tensor::zeros({4, 5})),
                         "error: measurement: v got spectral coefficients of shape [4, 5]; pass a batch of shape "
                         "[N, 6]",
                         error);
    CHECK(h->apply(tensor::zeros({0, 2, 3})).shape() == shape_t{0, 2, 3});
    h->bind({7});  // rebinding to another shape
    CHECK(h->measured_shape() == shape_t{7});
}
