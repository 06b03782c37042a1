// SPDX-License-Identifier: Apache-2.0
// Tests of dice and iou on hand-counted masks.
#include "overlap_metrics.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

metric_inputs masks(const shape_t& shape, const std::vector<float>& predicted, const std::vector<float>& truth) {
    metric_inputs in;
    in.samples = tensor::from_vector(shape, predicted);
    in.reference = tensor::from_vector(shape, truth);
    return in;
}

double dice_of(const metric_inputs& in, const std::string& yaml = "{}") {
    const metric_values v = testing::build<dice_metric>(yaml).compute(in);
    REQUIRE(v.size() == 1);
    CHECK(v[0].first == "dice");
    return v[0].second;
}

double iou_of(const metric_inputs& in, const std::string& yaml = "{}") {
    const metric_values v = testing::build<iou_metric>(yaml).compute(in);
    REQUIRE(v.size() == 1);
    CHECK(v[0].first == "iou");
    return v[0].second;
}

}  // namespace

// Example 0: A = 3 pixels, B = 2, both share 2: dice 4/5, iou 2/3. Example 1: disjoint: 0, 0.
// Example 2: both empty: 1, 1 (documented). Means: dice (0.8 + 0 + 1) / 3, iou (2/3 + 0 + 1) / 3.
TEST_CASE("dice and iou on hand-counted 2 x 3 masks, the empty pair counting 1") {
    const metric_inputs in = masks({3, 1, 2, 3},
                                   {1, 1, 1, 0, 0, 0,  //
                                    1, 0, 0, 0, 0, 0,  //
                                    0, 0, 0, 0, 0, 0},
                                   {0, 1, 1, 0, 0, 0,  //
                                    0, 0, 0, 0, 0, 1,  //
                                    0, 0, 0, 0, 0, 0});
    CHECK(dice_of(in) == doctest::Approx(1.8 / 3).epsilon(1e-12));
    CHECK(iou_of(in) == doctest::Approx((2.0 / 3 + 1) / 3).epsilon(1e-12));
    // The same masks as {-1, 1}: threshold 0 binarizes them identically.
    metric_inputs signed_masks = in;
    signed_masks.samples = in.samples * 2.0f + (-1.0f);
    signed_masks.reference = in.reference * 2.0f + (-1.0f);
    CHECK(dice_of(signed_masks) == doctest::Approx(1.8 / 3).epsilon(1e-12));
    // Soft masks with threshold 0.5: 0.4 is outside, 0.6 inside.
    const metric_inputs soft = masks({1, 4}, {0.6f, 0.4f, 0.9f, 0.1f}, {0.7f, 0.7f, 0.2f, 0.0f});
    CHECK(dice_of(soft, "{threshold: 0.5}") == doctest::Approx(2.0 / 4).epsilon(1e-12));
    CHECK(iou_of(soft, "{threshold: 0.5}") == doctest::Approx(1.0 / 3).epsilon(1e-12));
}

TEST_CASE("per example dice = 2 iou / (1 + iou) on random masks") {
    const tensor p = rand({20, 1, 8, 8}, 1, random_purpose("test")) + (-0.5f);
    const tensor t = rand({20, 1, 8, 8}, 2, random_purpose("test")) + (-0.6f);
    for (std::int64_t i = 0; i < 20; ++i) {
        metric_inputs one;
        one.samples = p.slice(0, i, i + 1).contiguous();
        one.reference = t.slice(0, i, i + 1).contiguous();
        const double iou = iou_of(one);
        CAPTURE(i);
        CHECK(iou > 0);
        CHECK(iou < 1);
        CHECK(dice_of(one) == doctest::Approx(2 * iou / (1 + iou)).epsilon(1e-12));
    }
}

TEST_CASE("dice and iou refuse unpaired or missing masks") {
    metric_inputs in;
    in.samples = tensor::zeros({4, 1, 8, 8});
    in.reference = tensor::zeros({4, 1, 8, 4});
    CHECK_THROWS_WITH_AS(dice_of(in),
                         "error: dice: samples [4, 1, 8, 8] and reference [4, 1, 8, 4] must have the same shape; dice "
                         "compares the masks example by example",
                         error);
    in.reference = tensor();
    CHECK_THROWS_WITH_AS(iou_of(in), "error: iou: no reference given; reference must hold the true masks [N, ...]",
                         error);
}

// Two 2 x 3 label maps; pooled over both, by class (predicted, true, both):
// 0: (6, 6, 5): iou 5/7, dice 10/12;  1: (4, 2, 2): 1/2, 4/6;  2: (2, 3, 2): 2/3, 4/5;
// 3: (0, 1, 0): 0, 0;  4: absent from both: NaN, and not in the means.
TEST_CASE("multi-class iou and dice per class over all pixels, means over the classes in the truth") {
    const metric_inputs in = masks({2, 1, 2, 3},
                                   {0, 1, 1, 2, 2, 0,  //
                                    1, 1, 0, 0, 0, 0},
                                   {0, 1, 2, 2, 2, 0,  //
                                    1, 0, 0, 0, 0, 3});
    const metric_values iou = testing::build<iou_metric>("{classes: 5}").compute(in);
    const metric_values dice = testing::build<dice_metric>("{classes: 5}").compute(in);
    REQUIRE(iou.size() == 6);
    REQUIRE(dice.size() == 6);
    CHECK(iou[0].first == "iou");
    CHECK(iou[0].second == doctest::Approx((5.0 / 7 + 0.5 + 2.0 / 3 + 0) / 4).epsilon(1e-12));
    CHECK(dice[0].second == doctest::Approx((10.0 / 12 + 4.0 / 6 + 4.0 / 5 + 0) / 4).epsilon(1e-12));
    const double expected_iou[4] = {5.0 / 7, 0.5, 2.0 / 3, 0}, expected_dice[4] = {10.0 / 12, 4.0 / 6, 4.0 / 5, 0};
    for (int c = 0; c < 4; ++c) {
        CAPTURE(c);
        CHECK(iou[static_cast<std::size_t>(c + 1)].first == "iou_" + std::to_string(c));
        CHECK(iou[static_cast<std::size_t>(c + 1)].second == doctest::Approx(expected_iou[c]).epsilon(1e-12));
        CHECK(dice[static_cast<std::size_t>(c + 1)].second == doctest::Approx(expected_dice[c]).epsilon(1e-12));
    }
    CHECK(std::isnan(iou[5].second));
    CHECK(std::isnan(dice[5].second));
}
