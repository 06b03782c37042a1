// SPDX-License-Identifier: Apache-2.0
// Scores of predicted videos that image metrics do not give: garment trajectories and best-of-k selection.
#pragma once

#include <difflab/tensor/tensor.h>

#include <array>
#include <cstdint>
#include <vector>

namespace difflab::plugins {

/// Frame f of every video [N, C, F, H, W]: the images [N, C, H, W] an image metric scores.
tensor frame_batch(const tensor& videos, std::int64_t f);

/// The intensity centroid (row, column) in pixels of an image [C, H, W] in [-1, 1], intensities
/// mapped to [0, 1] and summed over channels: where the bright garments of a Moving Fashion-MNIST
/// frame are on the dark background. An all-dark image has its centre as centroid.
std::array<double, 2> intensity_centroid(const tensor& image);

/// The trajectory error of each sample [N, C, F, H, W] against its truth: the Euclidean
/// distance (pixels) between the intensity centroids of the sample's and the truth's frame,
/// averaged over `frames` (the generated ones). Where the garments are is what a video model
/// must get right to predict motion; PSNR punishes a garment drawn one pixel off as much as a
/// missing one. Result [N][k]: sample n's error at frames[k].
std::vector<std::vector<double>> centroid_errors(const tensor& samples, const tensor& truths,
                                                 const std::vector<std::int64_t>& frames);

/// Best of k (Babaeizadeh et al. 2018; Denton & Fergus 2018 report the best of 100 samples of a
/// stochastic video model): `per_sample` holds one value per sample, sample s being draw s / V of
/// video s % V for `videos` = V; the mean over videos of each video's best draw, the largest
/// when `higher_is_better` (PSNR, SSIM) else the smallest (an error).
double best_of_draws(const std::vector<double>& per_sample, std::int64_t videos, bool higher_is_better);

/// The mean of `values` (0 for none).
double mean_of(const std::vector<double>& values);

}  // namespace difflab::plugins
