// SPDX-License-Identifier: Apache-2.0
// Dice and IoU of binarized masks, per example, averaged.
#include "overlap_metrics.h"

#include <fmt/format.h>

#include "metric_input_checks.h"

namespace difflab::plugins {

namespace {

std::vector<mask_overlap> checked_overlaps(const metric_inputs& in, const std::string& name, double threshold) {
    require_input(in.samples, name, "samples", "the predicted masks [N, ...]");
    require_input(in.reference, name, "reference", "the true masks [N, ...]");
    require_same_shape(in.samples, in.reference, name, name + " compares the masks example by example");
    return mask_overlaps(in.samples, in.reference, threshold);
}

const char* threshold_doc = "A mask value above this is inside the mask: 0 suits {0, 1} and {-1, 1} masks.";

}  // namespace

std::vector<mask_overlap> mask_overlaps(const tensor& predicted, const tensor& truth, double threshold) {
    const std::vector<double> a = values_of(predicted), b = values_of(truth);
    const auto n = static_cast<std::size_t>(predicted.size(0)), d = a.size() / n;
    std::vector<mask_overlap> out(n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i * d; j < (i + 1) * d; ++j) {
            const bool in_a = a[j] > threshold, in_b = b[j] > threshold;
            out[i].intersection += in_a && in_b;
            out[i].predicted += in_a;
            out[i].truth += in_b;
        }
    return out;
}

param_spec<dice_metric::options> dice_metric::params() {
    param_spec<options> spec{"Dice coefficient of predicted (samples) and true (reference) masks; mean over examples."};
    spec.add(&options::threshold, "threshold", threshold_doc);
    return spec;
}

dice_metric::dice_metric(const options& opts, build_context&) : opts_(opts) {}

metric_values dice_metric::compute(const metric_inputs& in) {
    const std::vector<mask_overlap> overlaps = checked_overlaps(in, "dice", opts_.threshold);
    double total = 0;
    for (const mask_overlap& o : overlaps) {
        const double size = o.predicted + o.truth;
        total += size == 0 ? 1.0 : 2 * o.intersection / size;
    }
    return {{"dice", total / static_cast<double>(overlaps.size())}};
}

metric_protocol dice_metric::protocol() const {
    return {{"threshold", fmt::format("{}", opts_.threshold)}};
}

param_spec<iou_metric::options> iou_metric::params() {
    param_spec<options> spec{
        "Intersection over union of predicted (samples) and true (reference) masks; mean over examples."};
    spec.add(&options::threshold, "threshold", threshold_doc);
    return spec;
}

iou_metric::iou_metric(const options& opts, build_context&) : opts_(opts) {}

metric_values iou_metric::compute(const metric_inputs& in) {
    const std::vector<mask_overlap> overlaps = checked_overlaps(in, "iou", opts_.threshold);
    double total = 0;
    for (const mask_overlap& o : overlaps) {
        const double united = o.predicted + o.truth - o.intersection;
        total += united == 0 ? 1.0 : o.intersection / united;
    }
    return {{"iou", total / static_cast<double>(overlaps.size())}};
}

metric_protocol iou_metric::protocol() const {
    return {{"threshold", fmt::format("{}", opts_.threshold)}};
}

}  // namespace difflab::plugins
