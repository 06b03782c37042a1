// SPDX-License-Identifier: Apache-2.0
// Overlap of predicted and true segmentation masks: Dice and intersection over union.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <string>
#include <vector>

namespace difflab::plugins {

/// Per example (row along dim 0) of two binary masks A (predicted) and B (true), the counts
/// the overlap metrics are made of. Masks are binarized as value > threshold, which separates
/// {0, 1} and {-1, 1} masks alike with threshold 0.
struct mask_overlap {
    double intersection = 0;  ///< |A and B|
    double predicted = 0;     ///< |A|
    double truth = 0;         ///< |B|
};

/// The overlaps of `predicted` and `truth` ([N, ...], same shape) per example.
std::vector<mask_overlap> mask_overlaps(const tensor& predicted, const tensor& truth, double threshold);

/// Per class c of label maps (values rounded to class ids 0..classes-1), pooled over every pixel
/// of every example: the pixels predicted c, true c, and both.
std::vector<mask_overlap> class_overlaps(const tensor& predicted, const tensor& truth, std::int64_t classes);

/// Dice coefficient (Dice 1945, "Measures of the amount of ecologic association between
/// species"; the segmentation score of Wolleb et al. 2022, "Diffusion models for implicit image
/// segmentation ensembles") of predicted masks (samples) against true masks (reference),
///     dice = 2 |A and B| / (|A| + |B|)
/// per example, value "dice" the mean over examples. An example where both masks are empty
/// counts 1 (the prediction is right). With `classes` K >= 2 the masks are label maps of K classes
/// (segmentation into classes, Baranchuk et al. 2022): per class c, dice_c over all pixels of all
/// examples, values "dice" the mean over the classes present in the truth and "dice_<c>" for each
/// c (NaN where c is absent from both). No denoiser evaluations.
class dice_metric final : public metric {
public:
    struct options {
        double threshold = 0.0;
        std::int64_t classes = 0;
    };
    static param_spec<options> params();
    dice_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
    metric_protocol protocol() const override;

private:
    options opts_;
};

/// Intersection over union, the Jaccard index (Jaccard 1912, "The distribution of the flora in
/// the alpine zone"), of predicted masks (samples) against true masks (reference),
///     iou = |A and B| / |A or B|
/// per example, value "iou" the mean over examples; per example dice = 2 iou / (1 + iou). An
/// example where both masks are empty counts 1. With `classes` K >= 2, label maps as dice_metric
/// reads them: "iou" the mean IoU over the classes present in the truth (mIoU), "iou_<c>" per
/// class. No denoiser evaluations.
class iou_metric final : public metric {
public:
    struct options {
        double threshold = 0.0;
        std::int64_t classes = 0;
    };
    static param_spec<options> params();
    iou_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
    metric_protocol protocol() const override;

private:
    options opts_;
};

}  // namespace difflab::plugins
