// SPDX-License-Identifier: Apache-2.0
// What people look at of a video sample: an animated GIF beside the truth, and frame strips.
#pragma once

#include <difflab/io/image_io.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace difflab::plugins {

/// The bytes of a looping animated GIF (GIF89a with the NETSCAPE2.0 loop extension, giflib) of
/// `frames`, gray images of one size (channels 1, a 256-level gray palette, so every 8-bit value
/// survives exactly), each shown `delay_cs` hundredths of a second. Throws a difflab::error on
/// no frames, frames of different sizes or colour frames.
std::string encode_animated_gif(const std::vector<image>& frames, int delay_cs);

/// Writes encode_animated_gif(frames, delay_cs) to `path` atomically.
void write_animated_gif(const std::filesystem::path& path, const std::vector<image>& frames, int delay_cs);

/// The frames of a GIF as 8-bit gray images (their palette indices, which are the gray levels for
/// GIFs written by encode_animated_gif), and whether it loops; for tests and tools. A missing or
/// damaged file throws a difflab::error naming it.
struct decoded_gif {
    std::vector<image> frames;
    bool loops = false;
    std::vector<int> delays_cs;
};
decoded_gif read_animated_gif(const std::filesystem::path& path);

/// One GIF frame per video frame f: the truth's frame f and the sample's side by side, each
/// magnified `scale` times by pixel repetition, inside a `padding`-pixel border that is grey
/// on the frames the model was given and black on the frames it generated. `truth` and
/// `sample` are [C, F, H, W] in [-1, 1] with C = 1.
std::vector<image> side_by_side_frames(const tensor& truth, const tensor& sample,
                                       const std::vector<std::int64_t>& given, std::int64_t scale = 4,
                                       std::int64_t padding = 2);

/// Video i [C, F, H, W] of a batch [N, C, F, H, W] (a view).
tensor video_at(const tensor& videos, std::int64_t i);

/// A video [C, F, H, W] as a batch of its frames [F, C, H, W], a row of a figure
/// (write_comparison_figure) or the input of an image metric.
tensor frames_of(const tensor& video);

}  // namespace difflab::plugins
