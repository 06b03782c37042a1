// SPDX-License-Identifier: Apache-2.0
// SDEdit's guides: coarse, few-colour paintings made from real images.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>

namespace difflab::plugins {

/// What a user's stroke painting looks like, made from images in [-1, 1]: each image averaged
/// over blocks down to `size` x `size` (the coarse layout), each value quantized to the nearest
/// of `levels` evenly spaced grey levels from -1 to 1 (the few paint colours), then upsampled
/// back by nearest neighbour (flat strokes). SDEdit (Meng et al. 2022) builds its stroke inputs
/// the same way in spirit: simplified, flat-coloured versions of real images.
struct stroke_guides {
    tensor coarse;  ///< [N, C, size, size]: the quantized block averages
    tensor image;   ///< [N, C, H, W]: coarse upsampled, the guide SDEdit starts from
};

/// H and W must be multiples of `size`; `levels` at least 2.
stroke_guides make_stroke_guides(const tensor& images, std::int64_t size, std::int64_t levels);

/// The block averages of images [N, C, H, W] at size x size (H, W multiples of size).
tensor block_averages(const tensor& images, std::int64_t size);

/// Per image, the L2 distance between the block averages of `images` at the coarse guides' size
/// and the guides: SDEdit's faithfulness to a guide, at the guide's own resolution.
std::vector<double> guide_distances(const tensor& images, const tensor& coarse);

}  // namespace difflab::plugins
