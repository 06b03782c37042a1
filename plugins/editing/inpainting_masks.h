// SPDX-License-Identifier: Apache-2.0
// The masks of the inpainting experiments: fixed regions, regular patterns and seeded strokes.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// The mask kinds, for parameter tables. On an H x W image (sizes for 28 x 28 in brackets):
///   center             the centre box of side H/2 is missing [14 x 14: 196 missing]
///   left_half          the left W/2 columns are missing [392]
///   expand             only the centre box of side 5H/14 is known (RePaint's "expand") [10 x 10: 100 known]
///   thick_strokes      seeded strokes of width 3 are missing (RePaint's "thick", from LaMa's masks)
///   thin_strokes       seeded strokes of width 1 are missing ("thin")
///   every_second_line  the odd rows are missing ("every second line") [392]
///   nearest_x2         only pixels at even row and column are known ("super-resolution" x2) [196 known]
const std::vector<std::string>& inpainting_mask_kinds();

/// The mask [1, H, W] of image `index`: 1 where the pixel is known, 0 where it is missing. The
/// stroke kinds draw from the Philox stream (seed, "inpainting/mask", index), so a mask depends
/// only on (kind, seed, index); the other kinds are the same for every image.
tensor inpainting_mask(const std::string& kind, std::int64_t height, std::int64_t width, std::uint64_t seed,
                       std::int64_t index);

/// Masks [n, 1, H, W] of images first .. first + n - 1.
tensor inpainting_masks(const std::string& kind, std::int64_t height, std::int64_t width, std::uint64_t seed,
                        std::int64_t first, std::int64_t n);

/// Marks as missing (0) every pixel a square brush of side `width` covers while its centre moves
/// along the segment (x0, y0) -> (x1, y1), x the column and y the row, in steps of a quarter
/// pixel; the brush covers columns round(x - (width - 1) / 2) .. + width - 1 (rows alike).
/// `keep` is row-major H x W.
void erase_stroke(std::vector<float>& keep, std::int64_t height, std::int64_t width, double x0, double y0, double x1,
                  double y1, std::int64_t brush);

}  // namespace difflab::plugins
