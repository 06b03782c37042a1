// SPDX-License-Identifier: Apache-2.0
// What the measurement operators share: the noise_std option and the image shape check.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>

namespace difflab::plugins {

/// Adds `noise_std`, the sigma_y of y = H x + sigma_y n, to an operator's options (every
/// operator can be measured with noise: DDRM's noisy super-resolution and deblurring).
template <class Options>
void add_noise_std(param_spec<Options>& spec) {
    spec.add(&Options::noise_std, "noise_std",
             "Standard deviation sigma_y of the Gaussian noise in y = H x + sigma_y n (0: noiseless), in the data's "
             "units (images in [-1, 1]).",
             at_least(0.0));
}

/// The sizes of an image example [C, H, W].
struct image_size {
    std::int64_t channels = 0, height = 0, width = 0;
};

/// `example` as an image, or a config_error naming the operator (`name`, as in "measurement
/// 'resize'") when it is not [C, H, W].
image_size image_example(const shape_t& example, const std::string& name);

/// Index j of any integer mirrored into [0, n) with the edge repeated (numpy's 'symmetric'):
/// ... 1 0 | 0 1 ... n-1 | n-1 n-2 ...
std::int64_t mirror_index(std::int64_t j, std::int64_t n);

}  // namespace difflab::plugins
