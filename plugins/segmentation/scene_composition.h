// SPDX-License-Identifier: Apache-2.0
// Painting garments onto a canvas: the image and per-pixel labels of a segmentation scene.
#pragma once

#include <cstdint>
#include <vector>

namespace difflab::plugins {

/// One garment to paint: a square gray patch (row-major, size x size bytes) at (top, left).
struct garment_placement {
    std::vector<std::uint8_t> pixels;
    std::int64_t size = 0;
    std::int64_t top = 0;
    std::int64_t left = 0;
    std::int32_t label = 0;  ///< the garment's class 0..9
};

/// A canvas x canvas scene: gray image bytes and per-pixel labels (0 background, 1 + class).
struct painted_scene {
    std::vector<std::uint8_t> image;
    std::vector<std::uint8_t> labels;
};

/// Paints `garments` in order over `background` (canvas x canvas bytes): a garment pixel brighter
/// than `threshold` replaces the image pixel and sets its label to 1 + the garment's class, so
/// later garments occlude earlier ones; pixels at or below the threshold are transparent (the
/// dark surround of a Fashion-MNIST image paints nothing). Parts outside the canvas are cut.
painted_scene paint_scene(std::vector<std::uint8_t> background, std::int64_t canvas,
                          const std::vector<garment_placement>& garments, std::uint8_t threshold);

}  // namespace difflab::plugins
