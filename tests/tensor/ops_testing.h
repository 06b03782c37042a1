// SPDX-License-Identifier: Apache-2.0
// Deterministic test inputs for the tensor core tests.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace difflab::testing {

/// Values spread over [low, high] by a fixed irrational rotation (no RNG needed).
inline tensor sample(const shape_t& shape, float low = -1.0f, float high = 1.0f, int salt = 0) {
    std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double u = std::fmod(0.6180339887498949 * static_cast<double>(i + 1) + 0.1234 * salt, 1.0);
        values[i] = static_cast<float>(low + (high - low) * u);
    }
    return tensor::from_vector(shape, values);
}

/// Values in [low, high] whose magnitude stays at least `gap` away from zero (kinks of
/// abs/relu/clamp), with alternating signs.
inline tensor away_from_zero(const shape_t& shape, float gap = 0.05f, float high = 1.0f, int salt = 0) {
    tensor t = sample(shape, gap, high, salt);
    float* p = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); i += 2) p[i] = -p[i];
    return t;
}

}  // namespace difflab::testing
