// SPDX-License-Identifier: Apache-2.0
// The 'feature_distance' metric: how far each sample is from its target in a classifier's features.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>

#include "feature_network.h"

namespace difflab::plugins {

/// A perceptual distance between each sample and the target paired with it (the ground truth of
/// an inpainting or restoration), the mean over pairs of ||f(x_i) - f(y_i)||_2 with f the pooled
/// penultimate features of the feature network. It stands in for LPIPS (Zhang et al. 2018, the
/// distance RePaint reports), whose trained weights cannot be fetched here: the same idea (a
/// distance in a trained network's features) with difflab's own Fashion-MNIST classifier, on
/// its own scale. Spends no denoiser evaluations.
class feature_distance_metric final : public feature_space_metric {
public:
    struct options {
        std::string feature_network = "fmnist_classifier";
        std::int64_t batch_size = 250;
    };
    static param_spec<options> params();
    feature_distance_metric(const options& opts, build_context& ctx);

    /// {"feature_distance", mean L2 distance >= 0}; needs `samples` and `reference` paired row by row.
    metric_values compute(const metric_inputs& in) override;
};

}  // namespace difflab::plugins
