// SPDX-License-Identifier: Apache-2.0
// Random tensors whose rows (samples) each come from their own Philox stream.
#include <difflab/tensor/random.h>

namespace difflab {
namespace {

template <class Fill>
tensor random_tensor(const shape_t& shape, Fill fill) {
    tensor out = tensor::empty(shape);
    const std::int64_t rows = shape.empty() ? 1 : shape[0];
    if (rows > 0) fill(static_cast<float*>(out.raw_data()), rows, out.numel() / rows);
    return out;
}

}  // namespace

tensor randn(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index,
             std::uint64_t step) {
    return random_tensor(shape, [&](float* data, std::int64_t rows, std::int64_t row_size) {
        fill_normal(data, rows, row_size, seed, purpose, first_index, step);
    });
}

tensor rand(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index,
            std::uint64_t step) {
    return random_tensor(shape, [&](float* data, std::int64_t rows, std::int64_t row_size) {
        fill_uniform(data, rows, row_size, seed, purpose, first_index, step);
    });
}

}  // namespace difflab
