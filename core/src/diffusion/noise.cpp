// SPDX-License-Identifier: Apache-2.0
// Noise draws with the standard Gaussian as the default.
#include <difflab/diffusion/noise.h>
#include <difflab/tensor/random.h>

namespace difflab {

tensor draw_noise(const noise* source, const shape_t& shape, std::uint64_t seed, std::uint64_t purpose,
                  std::uint64_t first_index, std::uint64_t step) {
    if (source) return source->draw(shape, seed, purpose, first_index, step);
    return randn(shape, seed, purpose, first_index, step);
}

}  // namespace difflab
