// SPDX-License-Identifier: Apache-2.0
// The 'classifier_accuracy' metric: argmax of the feature network's logits against sample labels.
#include "classifier_accuracy_metric.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <cmath>
#include <vector>

namespace difflab::plugins {

std::int64_t correct_classifications(const tensor& logits, const tensor& labels) {
    if (!logits.defined() || logits.dim() != 2 || !labels.defined() || labels.dim() != 1 ||
        labels.size(0) != logits.size(0) || logits.size(0) < 1)
        throw error(fmt::format("classification accuracy needs logits [N, C] and labels [N] with N >= 1, got {} "
                                 "and {}",
                                logits.defined() ? shape_text(logits.shape()) : "none",
                                labels.defined() ? shape_text(labels.shape()) : "none"));
    const std::int64_t n = logits.size(0), classes = logits.size(1);
    const std::vector<float> scores = logits.contiguous().to_vector(), wanted = labels.contiguous().to_vector();
    std::int64_t right = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const float label = wanted[static_cast<std::size_t>(i)];
        if (!(label >= 0 && label < static_cast<float>(classes)) || label != std::floor(label))
            throw error(
                fmt::format("classification accuracy: label {} of row {} is not a class 0..{}", label, i, classes - 1));
        const float* row = scores.data() + i * classes;
        std::int64_t best = 0;
        for (std::int64_t c = 1; c < classes; ++c)
            if (row[c] > row[best]) best = c;
        if (best == static_cast<std::int64_t>(label)) ++right;
    }
    return right;
}

double classification_accuracy(const tensor& logits, const tensor& labels) {
    return static_cast<double>(correct_classifications(logits, labels)) / static_cast<double>(logits.size(0));
}

param_spec<classifier_accuracy_metric::options> classifier_accuracy_metric::params() {
    param_spec<options> spec{
        "Fraction of class-conditional samples that a trained classifier assigns to the class they were generated "
        "for."};
    add_feature_network_params(spec);
    return spec;
}

classifier_accuracy_metric::classifier_accuracy_metric(const options& opts, build_context& ctx)
    : feature_space_metric(opts.feature_network, opts.batch_size, ctx), opts_(opts) {}

metric_values classifier_accuracy_metric::compute(const metric_inputs& in) {
    if (!in.sample_labels.defined())
        throw error(
            "classifier_accuracy needs `sample_labels` (the class each sample was generated for); use it with "
            "class-conditional generation");
    if (!in.samples.defined() || in.samples.dim() != 4 || in.samples.size(0) != in.sample_labels.numel())
        throw error(fmt::format("classifier_accuracy needs `samples` images [N, C, H, W], one per sample "
                                 "label ({}), got {}",
                                in.sample_labels.numel(),
                                in.samples.defined() ? shape_text(in.samples.shape()) : "none"));
    return {{"classifier_accuracy",
             classification_accuracy(features().logits(in.samples), in.sample_labels.reshape({-1}))}};
}

}  // namespace difflab::plugins
