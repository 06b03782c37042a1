// SPDX-License-Identifier: Apache-2.0
// The 'gaussian' noise.
#include "gaussian_noise.h"

#include <difflab/tensor/random.h>

namespace difflab::plugins {

param_spec<gaussian_noise::options> gaussian_noise::params() {
    return param_spec<options>{"Standard Gaussian noise N(0, I) (Ho et al. 2020; Song et al. 2021)."};
}

gaussian_noise::gaussian_noise(const options&, build_context&) {}

tensor gaussian_noise::draw(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index,
                            std::uint64_t step) const {
    return randn(shape, seed, purpose, first_index, step);
}

}  // namespace difflab::plugins
