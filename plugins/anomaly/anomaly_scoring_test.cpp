// SPDX-License-Identifier: Apache-2.0
// Anomaly maps, scores, multi-start z-scoring and the Dice threshold, counted by hand.
#include "anomaly_scoring.h"

#include <doctest/doctest.h>

#include <vector>

using namespace difflab;
using namespace difflab::plugins;

TEST_CASE("the anomaly map sums squared differences over channels, the score is its mean") {
    // One image, 2 channels of 2 x 1: differences (1, 2) and (3, -1): map (1 + 9, 4 + 1).
    const tensor x = tensor::from_vector({1, 2, 2, 1}, {1, 2, 3, -1});
    const tensor maps = anomaly_maps(x, tensor::zeros({1, 2, 2, 1}));
    CHECK(maps.shape() == shape_t{1, 1, 2, 1});
    CHECK(maps.to_vector() == std::vector<float>{10, 5});
    CHECK(image_scores(maps) == std::vector<double>{7.5});
}

TEST_CASE("multi-start scores z-score each start on the reference images, then average") {
    // Start 1: reference scores 1, 3 (mean 2, sd 1); start 2: 10, 30 (mean 20, sd 10).
    // Image 2 scores 4 and 20: z = 2 and 0, combined 1.
    const std::vector<double> combined = multi_start_scores({{1, 3, 4}, {10, 30, 20}}, {0, 1});
    REQUIRE(combined.size() == 3);
    CHECK(combined[0] == doctest::Approx(-1.0));
    CHECK(combined[1] == doctest::Approx(1.0));
    CHECK(combined[2] == doctest::Approx(1.0));
}

TEST_CASE("Dice counts overlaps, the chosen threshold separates a clear anomaly") {
    // 1 x 5 maps; truth marks pixels 1, 2; map values 0, 5, 5, 5, 1: at threshold 2 three pixels
    // are predicted, two right: Dice 2 * 2 / (3 + 2) = 0.8.
    const tensor maps = tensor::from_vector({1, 1, 1, 5}, {0, 5, 5, 5, 1});
    const tensor masks = tensor::from_vector({1, 1, 1, 5}, {0, 1, 1, 0, 0});
    CHECK(mean_dice(maps, masks, {0}, 2.0) == doctest::Approx(0.8));
    // Two images; on image 0 the anomaly (value 9) stands out from 1s, on image 1 (no anomaly) all
    // is 1: a threshold in [1, 9) is right on both.
    const tensor two = tensor::from_vector({2, 1, 1, 4}, {1, 9, 9, 1, 1, 1, 1, 1});
    const tensor truth = tensor::from_vector({2, 1, 1, 4}, {0, 1, 1, 0, 0, 0, 0, 0});
    const double threshold = best_dice_threshold(two, truth, {0, 1});
    CHECK(threshold >= 1.0);
    CHECK(threshold < 9.0);
    CHECK(mean_dice(two, truth, {0, 1}, threshold) == doctest::Approx(1.0));
}
