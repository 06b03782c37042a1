// SPDX-License-Identifier: Apache-2.0
// The 'classifier_accuracy' metric: how often the feature network recognizes the requested class.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <memory>
#include <string>

#include "feature_network.h"

namespace difflab::plugins {

/// The number of rows of `logits` [N, C] whose largest entry (the first of ties) is at the class
/// in `labels` [N] (whole numbers in 0 .. C - 1; others are errors naming the row).
std::int64_t correct_classifications(const tensor& logits, const tensor& labels);

/// correct_classifications / N.
double classification_accuracy(const tensor& logits, const tensor& labels);

/// Class-conditional sample accuracy: the fraction of samples generated for class y that the
/// feature network classifies as y, the "classification accuracy score" in its simplest form
/// (a fixed classifier trained on real data judges the samples; cf. Ravuri & Vinyals 2019,
/// "Classification accuracy score for conditional generative models", which trains on samples
/// instead). Needs `sample_labels`. Spends no denoiser evaluations.
class classifier_accuracy_metric final : public feature_space_metric {
public:
    struct options {
        std::string feature_network = "fmnist_classifier";
        std::int64_t batch_size = 250;
    };
    static param_spec<options> params();
    classifier_accuracy_metric(const options& opts, build_context& ctx);

    /// {"classifier_accuracy", fraction in [0, 1]}.
    metric_values compute(const metric_inputs& in) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
