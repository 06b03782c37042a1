// SPDX-License-Identifier: Apache-2.0
// Label maps as colors, for figures.
#pragma once

#include <difflab/tensor/tensor.h>

namespace difflab::plugins {

/// Label maps [N, 1, H, W] (class ids; 0 background) as RGB images [N, 3, H, W] in [-1, 1] for
/// figures: background black, classes 1.. in the ten colors of matplotlib's tab10 (repeating
/// after ten), a value that is no class id (negative) white.
tensor palette_images(const tensor& labels);

/// Gray images [N, 1, H, W] as RGB [N, 3, H, W], to stand beside palette_images in one figure.
tensor gray_as_rgb(const tensor& images);

}  // namespace difflab::plugins
