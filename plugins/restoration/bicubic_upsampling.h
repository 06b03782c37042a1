// SPDX-License-Identifier: Apache-2.0
// Bicubic upsampling by an integer factor: the baseline of super-resolution and SR3's input.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>

namespace difflab::plugins {

/// [N, C, h, w] -> [N, C, k h, k w] by Keys' cubic convolution with a = -1/2 (Keys 1981; the
/// bicubic of PIL and MATLAB that SR3, Saharia et al. 2022, upsamples its low-resolution input
/// with; PyTorch's bicubic uses a = -3/4): output pixel centres at (i + 1/2) / k - 1/2 in input
/// pixels, the four nearest input pixels weighted, indices past the edge clamped to it. It
/// reproduces constants everywhere and linear ramps away from the edges.
tensor bicubic_upsample(const tensor& images, std::int64_t factor);

}  // namespace difflab::plugins
