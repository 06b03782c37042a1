// SPDX-License-Identifier: Apache-2.0
// Tests of the 'gaussian' noise and of samplers drawing through it.
#include "gaussian_noise.h"

#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using namespace difflab::plugins;

TEST_CASE("gaussian noise has zero mean and unit variance") {
    const gaussian_noise noise = testing::build<gaussian_noise>();
    const auto values = noise.draw({5000, 4}, 7, random_purpose("test"), 0, 0).to_vector();
    double mean = 0, square = 0;
    for (float v : values) {
        mean += v;
        square += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(values.size());
    mean /= n;
    CHECK(std::abs(mean) < 4 / std::sqrt(n));
    CHECK(square / n - mean * mean == doctest::Approx(1.0).epsilon(4 * std::sqrt(2 / n)));
}

TEST_CASE("gaussian noise depends on its key only, not on the batch it is drawn in") {
    const gaussian_noise noise = testing::build<gaussian_noise>();
    const std::uint64_t purpose = random_purpose("test");
    const auto whole = noise.draw({8, 3}, 1, purpose, 0, 2).to_vector();
    const auto rows = noise.draw({2, 3}, 1, purpose, 5, 2).to_vector();  // examples 5 and 6
    for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i] == whole[15 + i]);
    CHECK(noise.draw({8, 3}, 1, purpose, 0, 3).to_vector() != whole);  // another step, other noise
}

TEST_CASE("a sampling context draws through its noise source") {
    const gaussian_noise noise = testing::build<gaussian_noise>();
    sampling_context with_source, without_source;
    with_source.seed = without_source.seed = 4;
    with_source.source = &noise;
    const tensor x = tensor::zeros({3, 2});
    // Gaussian through the component and the built-in default agree exactly.
    CHECK(with_source.noise_like(x, 1).to_vector() == without_source.noise_like(x, 1).to_vector());
}
