// SPDX-License-Identifier: Apache-2.0
// AUROC (Mann-Whitney U) and average precision of scores against binary labels.
#include "detection_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "metric_input_checks.h"

namespace difflab::plugins {

namespace {

/// The scores and 0/1 labels of `in`, checked: both given, same shape, labels 0 or 1.
void read_scores(const metric_inputs& in, const std::string& name, std::vector<double>& scores,
                 std::vector<double>& labels) {
    require_input(in.samples, name, "samples", "the scores [N] (higher = more anomalous or positive)");
    require_input(in.reference, name, "reference", "the binary labels [N] (1 positive, 0 negative)");
    require_same_shape(in.samples, in.reference, name, name + " pairs each score with the label at its position");
    scores = values_of(in.samples);
    labels = values_of(in.reference);
}

/// Indices of `scores` from the highest score down (ties in index order).
std::vector<std::size_t> by_score_descending(const std::vector<double>& scores) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    return order;
}

/// The number of positives; throws for a label other than 0 or 1, a NaN score or unequal lengths.
std::size_t count_positives(const std::vector<double>& scores, const std::vector<double>& labels,
                            const std::string& name) {
    if (scores.size() != labels.size())
        throw error(fmt::format("{}: {} scores but {} labels", name, scores.size(), labels.size()));
    std::size_t positives = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] != 0 && labels[i] != 1)
            throw error(fmt::format("{}: label {} at position {} is not 0 or 1; reference must hold binary "
                                     "labels (1 positive, 0 negative)",
                                    name, labels[i], i));
        if (std::isnan(scores[i]))
            throw error(fmt::format("{}: score at position {} is NaN; scores must be numbers", name, i));
        positives += labels[i] == 1;
    }
    return positives;
}

}  // namespace

double auroc(const std::vector<double>& scores, const std::vector<double>& labels) {
    const std::size_t positives = count_positives(scores, labels, "auroc");
    const std::size_t negatives = labels.size() - positives;
    if (positives == 0 || negatives == 0)
        throw error(fmt::format("auroc: the labels hold {} positives and {} negatives; the ROC curve needs both "
                                 "classes",
                                positives, negatives));
    // U = sum of the positives' ranks (ascending, tied scores sharing the mean rank) - P (P + 1) / 2.
    std::vector<std::size_t> order = by_score_descending(scores);
    std::reverse(order.begin(), order.end());
    double rank_sum = 0;
    for (std::size_t begin = 0; begin < order.size();) {
        std::size_t end = begin + 1;
        while (end < order.size() && scores[order[end]] == scores[order[begin]]) ++end;
        const double mean_rank = 0.5 * static_cast<double>(begin + 1 + end);  // ranks begin+1 .. end
        for (std::size_t k = begin; k < end; ++k)
            if (labels[order[k]] == 1) rank_sum += mean_rank;
        begin = end;
    }
    const double p = static_cast<double>(positives), n = static_cast<double>(negatives);
    return (rank_sum - p * (p + 1) / 2) / (p * n);
}

double average_precision(const std::vector<double>& scores, const std::vector<double>& labels) {
    const std::size_t positives = count_positives(scores, labels, "average_precision");
    if (positives == 0)
        throw error("average_precision: the labels hold no positive; precision and recall need at least one");
    const std::vector<std::size_t> order = by_score_descending(scores);
    double ap = 0, recall_before = 0, true_positives = 0;
    for (std::size_t begin = 0; begin < order.size();) {
        std::size_t end = begin;
        while (end < order.size() && scores[order[end]] == scores[order[begin]]) true_positives += labels[order[end++]];
        const double recall = true_positives / static_cast<double>(positives);
        const double precision = true_positives / static_cast<double>(end);
        ap += (recall - recall_before) * precision;
        recall_before = recall;
        begin = end;
    }
    return ap;
}

param_spec<auroc_metric::options> auroc_metric::params() {
    return param_spec<options>{
        "Area under the ROC curve of scores (samples) against binary labels (reference), ties counted one half."};
}

auroc_metric::auroc_metric(const options&, build_context&) {}

metric_values auroc_metric::compute(const metric_inputs& in) {
    std::vector<double> scores, labels;
    read_scores(in, "auroc", scores, labels);
    return {{"auroc", auroc(scores, labels)}};
}

param_spec<average_precision_metric::options> average_precision_metric::params() {
    return param_spec<options>{
        "Average precision (sklearn's non-interpolated sum of precision times recall increments) of scores "
        "(samples) against binary labels (reference)."};
}

average_precision_metric::average_precision_metric(const options&, build_context&) {}

metric_values average_precision_metric::compute(const metric_inputs& in) {
    std::vector<double> scores, labels;
    read_scores(in, "average_precision", scores, labels);
    return {{"average_precision", average_precision(scores, labels)}};
}

}  // namespace difflab::plugins
