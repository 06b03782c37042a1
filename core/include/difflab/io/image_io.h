// SPDX-License-Identifier: Apache-2.0
// 8-bit images: PNG files (libpng), conversions to and from tensors, sample grids, resizing.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace difflab {

/// An 8-bit image: `height` rows of `width` pixels of `channels` interleaved values (1: gray,
/// 3: RGB), row-major, so pixel (y, x) channel c is pixels[(y * width + x) * channels + c].
struct image {
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::int64_t channels = 0;
    std::vector<std::uint8_t> pixels;
};

/// An 8-bit indexed-color image, as label maps are stored: `height` rows of `width` indices,
/// row-major, into `palette`, which holds 1 to 256 RGB triples (3 bytes each, flat).
struct indexed_image {
    std::int64_t width = 0;
    std::int64_t height = 0;
    std::vector<std::uint8_t> indices;
    std::vector<std::uint8_t> palette;
};

/// Reads a PNG file of any kind (gray, gray+alpha, RGB, RGBA, palette, 1 to 16 bits) as 8-bit
/// gray (channels 1) when the file has no color, else as 8-bit RGB (channels 3). Alpha is
/// dropped, not composited (the stored colors are kept, as PIL's convert does); 16-bit values
/// are scaled to 8 bits (v / 257, rounded) and palettes are expanded. A missing file, a file
/// that is not a PNG and a truncated or corrupt PNG each throw a difflab::error
/// "PATH: error: ...".
image read_png(const std::filesystem::path& path);

/// As `read_png`, from the bytes of a PNG held in memory; `name` stands for the path in errors.
image decode_png(const std::string& bytes, const std::string& name);

/// The bytes of `img` as an 8-bit gray or RGB PNG (channels 1 or 3).
std::string encode_png(const image& img);

/// Writes `img` as a PNG file atomically (temporary file, fsync, rename): readers see the old
/// file or the complete new one.
void write_png(const std::filesystem::path& path, const image& img);

/// The bytes of `img` as a palette PNG (color type 3, a PLTE chunk of its palette): viewers show
/// the colors, readers that keep indices (PIL's mode "P") get the label ids back. Throws when an
/// index has no palette entry.
std::string encode_indexed_png(const indexed_image& img);

/// Writes `img` as a palette PNG file atomically.
void write_indexed_png(const std::filesystem::path& path, const indexed_image& img);

/// One example [C, H, W] (C 1 or 3) as an image: values mapped from [low, high] to 0..255,
/// clamped and rounded to nearest (floor(255 u + 0.5), as torchvision's save_image; NaN -> 0).
image to_image(const tensor& chw, float low = -1, float high = 1);

/// An image as an f32 tensor [C, H, W] with 0..255 mapped linearly onto [low, high].
tensor from_image(const image& img, float low = -1, float high = 1);

/// A batch [N, C, H, W] (C 1 or 3) tiled `columns` to a row into one image, laid out as
/// torchvision.utils.make_grid: `padding` black pixels between tiles and around the grid, so
/// tile k sits at x = padding + (k % columns) (W + padding), y = padding + (k / columns)
/// (H + padding); the grid keeps C channels. Values map from [low, high] as in `to_image`.
image image_grid(const tensor& batch, std::int64_t columns, float low = -1, float high = 1, std::int64_t padding = 2);

/// Writes `image_grid(batch, columns, low, high, padding)` as a PNG file (atomically).
void write_image_grid(const std::filesystem::path& path, const tensor& batch, std::int64_t columns, float low = -1,
                      float high = 1, std::int64_t padding = 2);

/// `img` with 1 or 3 channels: gray is repeated into RGB; RGB becomes gray by ITU-R 601-2 luma
/// (L = (299 R + 587 G + 114 B) / 1000, rounded), as PIL's convert("L").
image convert_channels(const image& img, std::int64_t channels);

/// `img` resized to width x height by bilinear interpolation with antialiasing when shrinking
/// (PIL's BILINEAR filter, torchvision's Resize with antialias=True): pixel centers at half
/// integers, a triangle filter widened by the scale factor when the image gets smaller, each
/// axis in turn, rounded to 8 bits once at the end.
image resize_bilinear(const image& img, std::int64_t width, std::int64_t height);

}  // namespace difflab
