// SPDX-License-Identifier: Apache-2.0
// Label maps as colors, for figures.
#pragma once

#include <difflab/io/image_io.h>
#include <difflab/tensor/tensor.h>

namespace difflab::plugins {

/// Label maps [N, 1, H, W] (class ids; 0 background) as RGB images [N, 3, H, W] in [-1, 1] for
/// figures: background black, classes 1.. in the ten colors of matplotlib's tab10 (repeating
/// after ten), a value that is no class id (negative) white.
tensor palette_images(const tensor& labels);

/// Label maps [N, 1, H, W] (class ids 0..255) tiled `columns` to a row by image_grid
/// (`padding` pixels of id 0 between and around), as an indexed image whose palette has
/// an entry per id up to the largest, in palette_images' colors: written as a palette PNG, the
/// file shows the colors and keeps the ids.
indexed_image label_grid(const tensor& labels, std::int64_t columns, std::int64_t padding = 2);

/// Gray images [N, 1, H, W] as RGB [N, 3, H, W], to stand beside palette_images in one figure.
tensor gray_as_rgb(const tensor& images);

}  // namespace difflab::plugins
