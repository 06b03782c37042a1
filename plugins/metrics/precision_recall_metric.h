// SPDX-License-Identifier: Apache-2.0
// The 'precision_recall' metric: k-NN manifold precision and recall in feature space.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>

#include "feature_network.h"

namespace difflab::plugins {

/// Distance from each row of `points` [N, F] to its k-th nearest neighbour among the other rows
/// (the point itself does not count; duplicates do). Needs 1 <= k < N.
Eigen::VectorXd knn_radii(const Eigen::MatrixXd& points, std::int64_t k);

/// The fraction of rows of `queries` that lie inside the manifold of `points`: within distance
/// radii[j] (inclusive) of some row j of `points`.
double manifold_coverage(const Eigen::MatrixXd& points, const Eigen::VectorXd& radii, const Eigen::MatrixXd& queries);

struct precision_recall_values {
    double precision = 0;
    double recall = 0;
};

/// Improved precision and recall of `samples` against `reference` (both [N, F] features):
/// precision = fraction of samples inside the reference manifold (k-NN balls of the reference
/// points), recall = fraction of reference points inside the sample manifold.
precision_recall_values improved_precision_recall(const Eigen::MatrixXd& reference, const Eigen::MatrixXd& samples,
                                                  std::int64_t k);

/// Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, "Improved
/// precision and recall metric for assessing generative models"): each set's manifold is the
/// union of balls around its points, each reaching the point's k-th nearest neighbour in the same
/// set (k = 3 in the paper). Precision is the fraction of samples inside the reference manifold
/// (quality), recall the fraction of reference points inside the sample manifold (coverage).
/// Features are the feature network's embeddings (the paper uses VGG-16's). Gives "precision" and
/// "recall". Spends no denoiser evaluations.
class precision_recall_metric final : public feature_space_metric {
public:
    struct options {
        std::string feature_network = "fmnist_classifier";
        std::int64_t batch_size = 250;
        std::int64_t k = 3;
    };
    static param_spec<options> params();
    precision_recall_metric(const options& opts, build_context& ctx);

    /// {"precision", p}, {"recall", r}; needs more than k samples and reference images.
    metric_values compute(const metric_inputs& in) override;

private:
    metric_protocol settings() const override;

    options opts_;
};

}  // namespace difflab::plugins
