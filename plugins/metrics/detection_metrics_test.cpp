// SPDX-License-Identifier: Apache-2.0
// Tests of auroc and average_precision on hand-computed cases and against brute force.
#include "detection_metrics.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

metric_inputs scored(const std::vector<float>& scores, const std::vector<float>& labels) {
    metric_inputs in;
    in.samples = tensor::from_vector({static_cast<std::int64_t>(scores.size())}, scores);
    in.reference = tensor::from_vector({static_cast<std::int64_t>(labels.size())}, labels);
    return in;
}

double auroc_of(const std::vector<float>& scores, const std::vector<float>& labels) {
    const metric_values v = testing::build<auroc_metric>().compute(scored(scores, labels));
    REQUIRE(v.size() == 1);
    CHECK(v[0].first == "auroc");
    return v[0].second;
}

double ap_of(const std::vector<float>& scores, const std::vector<float>& labels) {
    const metric_values v = testing::build<average_precision_metric>().compute(scored(scores, labels));
    REQUIRE(v.size() == 1);
    CHECK(v[0].first == "average_precision");
    return v[0].second;
}

}  // namespace

TEST_CASE("auroc and average precision: perfect, reversed and constant scores") {
    const std::vector<float> scores = {0.1f, 0.2f, 0.8f, 0.9f};
    CHECK(auroc_of(scores, {0, 0, 1, 1}) == 1.0);
    CHECK(ap_of(scores, {0, 0, 1, 1}) == 1.0);
    CHECK(auroc_of(scores, {1, 1, 0, 0}) == 0.0);
    // Reversed: the positives come third and fourth, at precision 1/3 and 2/4.
    CHECK(ap_of(scores, {1, 1, 0, 0}) == doctest::Approx(0.5 / 3 + 0.5 * 0.5));
    // All scores equal: one threshold, every pair a tie; AP is the positive fraction.
    CHECK(auroc_of({0.3f, 0.3f, 0.3f, 0.3f, 0.3f}, {1, 0, 0, 1, 0}) == 0.5);
    CHECK(ap_of({0.3f, 0.3f, 0.3f, 0.3f, 0.3f}, {1, 0, 0, 1, 0}) == doctest::Approx(0.4));
}

// Scores 0.9+ 0.7- 0.7+ 0.5+ 0.3- 0.3- (+ positive, - negative). Positive-negative pairs won:
// 0.9: 3; 0.7: 2 and a tie (2.5); 0.5: 2 -> U = 7.5 of 9. Thresholds 0.9, 0.7, 0.5, 0.3 reach
// recall 1/3, 2/3, 1, 1 at precision 1, 2/3, 3/4, 1/2 -> AP = 1/3 + 2/9 + 1/4 = 29/36.
TEST_CASE("auroc and average precision with ties, computed by hand") {
    const std::vector<float> scores = {0.9f, 0.7f, 0.7f, 0.5f, 0.3f, 0.3f}, labels = {1, 0, 1, 1, 0, 0};
    CHECK(auroc_of(scores, labels) == doctest::Approx(7.5 / 9).epsilon(1e-12));
    CHECK(ap_of(scores, labels) == doctest::Approx(29.0 / 36).epsilon(1e-12));
    // Order of the cases does not matter, and a monotone map of the scores changes nothing.
    const std::vector<float> shuffled_scores = {0.3f, 0.7f, 0.5f, 0.9f, 0.3f, 0.7f},
                             shuffled_labels = {0, 1, 1, 1, 0, 0};
    CHECK(auroc_of(shuffled_scores, shuffled_labels) == doctest::Approx(7.5 / 9).epsilon(1e-12));
    CHECK(ap_of(shuffled_scores, shuffled_labels) == doctest::Approx(29.0 / 36).epsilon(1e-12));
    std::vector<float> exp_scores;
    for (float s : scores) exp_scores.push_back(std::exp(3 * s));
    CHECK(auroc_of(exp_scores, labels) == doctest::Approx(7.5 / 9).epsilon(1e-12));
}

// Brute force: AUROC counts every positive-negative pair; AP sums over each distinct threshold
// t the recall gained times the precision of {score >= t}.
TEST_CASE("auroc and average precision equal brute force on many tied integer scores") {
    const std::vector<float> u = rand({300}, 3, random_purpose("test")).to_vector();
    const std::vector<float> v = rand({300}, 4, random_purpose("test")).to_vector();
    std::vector<double> scores, labels;
    for (std::size_t i = 0; i < u.size(); ++i) {
        labels.push_back(v[i] < 0.3f ? 1.0 : 0.0);
        scores.push_back(std::floor(6 * u[i]) + labels.back());  // 7 levels, positives shifted up
    }
    double won = 0, pairs = 0;
    for (std::size_t i = 0; i < scores.size(); ++i)
        for (std::size_t j = 0; j < scores.size(); ++j)
            if (labels[i] == 1 && labels[j] == 0) {
                pairs += 1;
                won += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
            }
    double positives = 0;
    for (double l : labels) positives += l;
    const std::set<double> thresholds(scores.begin(), scores.end());
    double ap = 0, recall_before = 0;
    for (auto t = thresholds.rbegin(); t != thresholds.rend(); ++t) {
        double hits = 0, taken = 0;
        for (std::size_t i = 0; i < scores.size(); ++i)
            if (scores[i] >= *t) {
                taken += 1;
                hits += labels[i];
            }
        ap += (hits / positives - recall_before) * hits / taken;
        recall_before = hits / positives;
    }
    MESSAGE("auroc ", won / pairs, ", average precision ", ap, " over ", thresholds.size(), " thresholds");
    CHECK(auroc(scores, labels) == doctest::Approx(won / pairs).epsilon(1e-12));
    CHECK(average_precision(scores, labels) == doctest::Approx(ap).epsilon(1e-12));
    CHECK(won / pairs > 0.6);  // the shift makes the case non-trivial but separable in part
}

TEST_CASE("auroc pairs pixel-level scores with masks of the same shape") {
    metric_inputs in;
    in.samples = tensor::from_vector({2, 1, 2, 2}, {0.9f, 0.1f, 0.2f, 0.3f, 0.8f, 0.7f, 0.4f, 0.75f});
    in.reference = tensor::from_vector({2, 1, 2, 2}, {1, 0, 0, 0, 1, 1, 0, 0});
    // Positives 0.9, 0.8, 0.7 against negatives 0.1, 0.2, 0.3, 0.4, 0.75: only 0.7 < 0.75 is lost.
    CHECK(testing::build<auroc_metric>().compute(in)[0].second == doctest::Approx(14.0 / 15).epsilon(1e-12));
}

TEST_CASE("auroc and average precision refuse a missing class, bad labels and unpaired inputs") {
    CHECK_THROWS_WITH_AS(auroc_of({0.1f, 0.2f}, {1, 1}),
                         "error: auroc: the labels hold 2 positives and 0 negatives; the ROC curve needs both classes",
                         error);
    CHECK_THROWS_AS(auroc_of({0.1f, 0.2f}, {0, 0}), error);
    CHECK(ap_of({0.1f, 0.2f}, {1, 1}) == 1.0);  // no negative: every threshold has precision 1
    CHECK_THROWS_AS(ap_of({0.1f, 0.2f}, {0, 0}), error);
    CHECK_THROWS_WITH_AS(auroc_of({0.1f, 0.2f}, {1, 2}),
                         "error: auroc: label 2 at position 1 is not 0 or 1; reference must hold binary labels (1 "
                         "positive, 0 negative)",
                         error);
    CHECK_THROWS_AS(auroc_of({0.1f, NAN}, {1, 0}), error);
    CHECK_THROWS_WITH_AS(auroc_of({0.1f, 0.2f, 0.3f}, {1, 0}),
                         "error: auroc: samples [3] and reference [2] must have the same shape; auroc pairs each score "
                         "with the label at its position",
                         error);
    metric_inputs none;
    CHECK_THROWS_AS(testing::build<average_precision_metric>().compute(none), error);
}
