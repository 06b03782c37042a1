// SPDX-License-Identifier: Apache-2.0
// What the restoration tasks share: measuring images, showing the measurement, its consistency.
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/diffusion/noise.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>

namespace difflab::plugins {

/// y = H x + sigma_y n for a batch of images x whose first is example `first` of the run: n from
/// `source` on the stream (seed, "restoration/measurement", first + i), so every method of a grid
/// with the same seed restores the same y; sigma_y is H's noise_std().
tensor measure(const measurement& h, const tensor& x, const noise* source, std::uint64_t seed, std::int64_t first = 0);

/// The root mean square of H x - y over all measured values (0 when x explains y exactly).
double measurement_consistency(const measurement& h, const tensor& x, const tensor& y);

/// What a figure shows for y: y itself when it is an image [C, h, w] whose size divides the
/// data's [C, H, W] by one integer factor (a mask's, a blur's, a downsampler's), else H^+ y.
tensor shown_measurement(const measurement& h, const tensor& y, const shape_t& image);

/// The integer k with H, W = k h, k w for an image measurement [C, h, w] of images [C, H, W];
/// 0 when the measurement is not such an image.
std::int64_t upsampling_factor(const shape_t& measured, const shape_t& image);

}  // namespace difflab::plugins
