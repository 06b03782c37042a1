// SPDX-License-Identifier: Apache-2.0
// From reconstructions to anomaly scores: maps, multi-start image scores, a Dice threshold.
#pragma once

#include <difflab/plugin/registry.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// The anomaly map of reconstruction-based detection (Wyatt et al. 2022): (x - x_hat)^2 summed
/// over channels, [N, 1, H, W].
tensor anomaly_maps(const tensor& x, const tensor& reconstruction);

/// An image's score: the mean of its anomaly map, [N].
std::vector<double> image_scores(const tensor& maps);

/// Multi-start scores (Graham et al. 2023, "Denoising diffusion models for out-of-distribution
/// detection"): each start's scores z-scored by the mean and standard deviation (population) of
/// that start's scores on the `reference` images (in-distribution validation images), then
/// averaged over the starts. With one start this only shifts and scales, so rankings stay.
std::vector<double> multi_start_scores(const std::vector<std::vector<double>>& per_start,
                                       const std::vector<std::size_t>& reference);

/// The threshold on anomaly maps with the best mean Dice over `images` (rows of `maps` and
/// `masks`, [N, 1, H, W]), among `candidates` levels evenly spaced between the smallest and the
/// largest map value of those images (AnoDDPM picks its threshold on validation images so).
/// Throws when `images` is empty.
double best_dice_threshold(const tensor& maps, const tensor& masks, const std::vector<std::size_t>& images,
                           std::int64_t candidates = 200);

/// The mean Dice over `images` of (maps > threshold) against masks.
double mean_dice(const tensor& maps, const tensor& masks, const std::vector<std::size_t>& images, double threshold);

/// The first value of the metric `type` of the build's plugins (auroc, average_precision) on
/// scores against binary labels, paired position by position.
double rank_metric(build_context& builder, const std::string& type, const tensor& scores, const tensor& labels);

/// The rows of `all` (dimension 0) listed in `rows`, in that order, as a new tensor.
tensor select_rows(const tensor& all, const std::vector<std::size_t>& rows);

/// Values as a [N] tensor.
tensor as_tensor(const std::vector<double>& values);

}  // namespace difflab::plugins
