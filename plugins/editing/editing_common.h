// SPDX-License-Identifier: Apache-2.0
// What the editing tasks share: the PSNR over the pixels they fill in.
#pragma once

#include <difflab/tensor/tensor.h>

namespace difflab::plugins {

/// The mean over images of the PSNR over the pixels where `masks` [N, 1, H, W] is 0 (the
/// missing ones), for values in [-1, 1]: 10 log10(2^2 / MSE). Images without a missing pixel
/// are left out; an image reproduced exactly there counts with the MSE of one level in 255.
double missing_pixel_psnr(const tensor& samples, const tensor& targets, const tensor& masks);

}  // namespace difflab::plugins
