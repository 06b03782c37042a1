// SPDX-License-Identifier: Apache-2.0
// Ranking metrics of scores against binary labels: AUROC and average precision.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <vector>

namespace difflab::plugins {

/// Area under the ROC curve of scores (samples: higher = more anomalous, or more likely
/// positive) against binary labels (reference: 1 positive, 0 negative) of the same shape,
/// paired position by position: [N] for image-level detection, [N, 1, H, W] for pixel-level
/// (every pixel one case). Computed as the Mann-Whitney U statistic over P positives and
/// N negatives, AUROC = U / (P N), a tied positive-negative pair counting one half (Hanley &
/// McNeil 1982, "The meaning and use of the area under a receiver operating characteristic
/// (ROC) curve"); it equals sklearn.metrics.roc_auc_score. Both classes must be present. No
/// denoiser evaluations.
class auroc_metric final : public metric {
public:
    struct options {};
    static param_spec<options> params();
    auroc_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
};

/// Average precision of scores against binary labels, paired as auroc_metric pairs them:
///     AP = sum_n (R_n - R_{n-1}) P_n,
/// precision P_n and recall R_n at the n-th distinct score threshold from the highest (tied
/// scores enter together), R_0 = 0: the non-interpolated AP of PASCAL VOC after 2010 (Zhu 2004,
/// "Recall, precision and average precision"), as sklearn.metrics.average_precision_score
/// computes it. Needs at least one positive. No denoiser evaluations.
class average_precision_metric final : public metric {
public:
    struct options {};
    static param_spec<options> params();
    average_precision_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
};

/// AUROC of `scores` against 0/1 `labels` (equally long); throws unless both classes occur.
double auroc(const std::vector<double>& scores, const std::vector<double>& labels);
/// Average precision of `scores` against 0/1 `labels`; throws without a positive.
double average_precision(const std::vector<double>& scores, const std::vector<double>& labels);

}  // namespace difflab::plugins
