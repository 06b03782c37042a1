// SPDX-License-Identifier: Apache-2.0
// Dice and IoU of binarized masks, per example, averaged.
#include "overlap_metrics.h"

#include <fmt/format.h>

#include <cmath>

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
const char* classes_doc =
    "0: binary masks per example; K >= 2: label maps of K classes, scored per class over all pixels.";

/// The per-class values of a multi-class overlap score (`score` of one class's overlap), "<name>"
/// the mean over the classes present in the truth and "<name>_<c>" each (NaN when c is absent
/// from both maps).
template <class Score>
metric_values per_class(const metric_inputs& in, const std::string& name, std::int64_t classes, Score score) {
    require_input(in.samples, name, "samples", "the predicted label maps [N, ...]");
    require_input(in.reference, name, "reference", "the true label maps [N, ...]");
    require_same_shape(in.samples, in.reference, name, name + " compares the maps pixel by pixel");
    const std::vector<mask_overlap> overlaps = class_overlaps(in.samples, in.reference, classes);
    metric_values values{{name, 0.0}};
    double total = 0;
    int present = 0;
    for (std::int64_t c = 0; c < classes; ++c) {
        const mask_overlap& o = overlaps[static_cast<std::size_t>(c)];
        const bool seen = o.predicted + o.truth > 0;
        values.emplace_back(fmt::format("{}_{}", name, c), seen ? score(o) : std::nan(""));
        if (o.truth > 0) total += score(o), ++present;
    }
    values.front().second = present ? total / present : std::nan("");
    return values;
}

double dice_of(const mask_overlap& o) {
    const double size = o.predicted + o.truth;
    return size == 0 ? 1.0 : 2 * o.intersection / size;
}

double iou_of(const mask_overlap& o) {
    const double united = o.predicted + o.truth - o.intersection;
    return united == 0 ? 1.0 : o.intersection / united;
}

}  // namespace

std::vector<mask_overlap> class_overlaps(const tensor& predicted, const tensor& truth, std::int64_t classes) {
    const std::vector<double> a = values_of(predicted), b = values_of(truth);
    std::vector<mask_overlap> out(static_cast<std::size_t>(classes));
    for (std::size_t j = 0; j < a.size(); ++j) {
        const auto ca = static_cast<std::int64_t>(std::lround(a[j])), cb = static_cast<std::int64_t>(std::lround(b[j]));
        if (ca >= 0 && ca < classes) out[static_cast<std::size_t>(ca)].predicted += 1;
        if (cb >= 0 && cb < classes) out[static_cast<std::size_t>(cb)].truth += 1;
        if (ca == cb && ca >= 0 && ca < classes) out[static_cast<std::size_t>(ca)].intersection += 1;
    }
    return out;
}

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
    spec.add(&options::classes, "classes", classes_doc, at_least<std::int64_t>(0));
    return spec;
}

dice_metric::dice_metric(const options& opts, build_context&) : opts_(opts) {}

metric_values dice_metric::compute(const metric_inputs& in) {
    if (opts_.classes >= 2) return per_class(in, "dice", opts_.classes, dice_of);
    const std::vector<mask_overlap> overlaps = checked_overlaps(in, "dice", opts_.threshold);
    double total = 0;
    for (const mask_overlap& o : overlaps) total += dice_of(o);
    return {{"dice", total / static_cast<double>(overlaps.size())}};
}

metric_protocol dice_metric::protocol() const {
    return {{"threshold", fmt::format("{}", opts_.threshold)}, {"classes", fmt::format("{}", opts_.classes)}};
}

param_spec<iou_metric::options> iou_metric::params() {
    param_spec<options> spec{
        "Intersection over union of predicted (samples) and true (reference) masks; mean over examples."};
    spec.add(&options::threshold, "threshold", threshold_doc);
    spec.add(&options::classes, "classes", classes_doc, at_least<std::int64_t>(0));
    return spec;
}

iou_metric::iou_metric(const options& opts, build_context&) : opts_(opts) {}

metric_values iou_metric::compute(const metric_inputs& in) {
    if (opts_.classes >= 2) return per_class(in, "iou", opts_.classes, iou_of);
    const std::vector<mask_overlap> overlaps = checked_overlaps(in, "iou", opts_.threshold);
    double total = 0;
    for (const mask_overlap& o : overlaps) total += iou_of(o);
    return {{"iou", total / static_cast<double>(overlaps.size())}};
}

metric_protocol iou_metric::protocol() const {
    return {{"threshold", fmt::format("{}", opts_.threshold)}, {"classes", fmt::format("{}", opts_.classes)}};
}

}  // namespace difflab::plugins
