// SPDX-License-Identifier: Apache-2.0
// The 'feature_distance' metric: the mean L2 distance of paired feature vectors.
#include "feature_distance_metric.h"

#include <cmath>
#include <vector>

#include "metric_input_checks.h"

namespace difflab::plugins {

param_spec<feature_distance_metric::options> feature_distance_metric::params() {
    param_spec<options> spec{
        "Mean L2 distance between each sample's and its paired target's features in a trained classifier (a "
        "stand-in for LPIPS)."};
    add_feature_network_params(spec);
    return spec;
}

feature_distance_metric::feature_distance_metric(const options& opts, build_context& ctx)
    : feature_space_metric(opts.feature_network, opts.batch_size, ctx) {}

metric_values feature_distance_metric::compute(const metric_inputs& in) {
    const tensor& samples = require_input(in.samples, "feature_distance", "samples", "images [N, C, H, W]");
    const tensor& targets =
        require_input(in.reference, "feature_distance", "reference", "the targets paired with the samples");
    require_same_shape(samples, targets, "feature_distance", "it pairs them row by row");
    const std::vector<double> a = values_of(features().features(samples)), b = values_of(features().features(targets));
    const std::int64_t n = samples.size(0);
    const auto width = static_cast<std::size_t>(static_cast<std::int64_t>(a.size()) / n);
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        double squared = 0;
        for (std::size_t j = 0; j < width; ++j) {
            const double d = a[static_cast<std::size_t>(i) * width + j] - b[static_cast<std::size_t>(i) * width + j];
            squared += d * d;
        }
        total += std::sqrt(squared);
    }
    return {{"feature_distance", total / static_cast<double>(n)}};
}

}  // namespace difflab::plugins
