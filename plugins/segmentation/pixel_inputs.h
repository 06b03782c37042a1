// SPDX-License-Identifier: Apache-2.0
// What a pixel classifier reads and learns from: inputs per pixel, and the pixels to learn.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <vector>

namespace difflab::plugins {

/// The raw-pixel control of Baranchuk et al.'s comparison: per pixel its value and its row and
/// column in [-1, 1] ([N, C, H, W] -> [N, C + 2, H, W]), so a pixel classifier sees where it is.
tensor pixels_with_coordinates(const tensor& images);

/// Per-pixel rows of per-pixel maps: [N, F, H, W] -> [N H W, F], pixel (n, y, x) at row
/// (n H + y) W + x.
tensor pixel_rows(const tensor& maps);

/// The training pixels of label maps [N, 1, H, W] (class ids): all but those of a class that
/// covers fewer than `min_region` pixels of its image (Baranchuk et al. drop such slivers from
/// training); indices in pixel_rows order.
std::vector<std::int64_t> trained_pixels(const tensor& labels, std::int64_t classes, std::int64_t min_region);

}  // namespace difflab::plugins
