// SPDX-License-Identifier: Apache-2.0
// The fashion_scenes dataset: scenes keyed by (seed, index), labels where garments are bright,
// binary and mask modes, errors.
#include <difflab/base/error.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

using namespace difflab;
using difflab::testing::make;

TEST_CASE("a scene depends only on its seed and index, labels mark bright garment pixels") {
    const auto scenes = make<dataset>("{type: fashion_scenes, split: test, count: 50, seed: 4}");
    CHECK(scenes->size() == 50);
    CHECK(scenes->example_shape() == shape_t{1, 32, 32});
    const example_batch batch = scenes->get({3, 7, 9});
    const example_batch alone = scenes->get({7});
    CHECK(alone.x.to_vector() == batch.x.slice(0, 1, 2).contiguous().to_vector());
    CHECK(alone.paired.to_vector() == batch.paired.slice(0, 1, 2).contiguous().to_vector());
    const auto reseeded = make<dataset>("{type: fashion_scenes, split: test, count: 50, seed: 5}");
    CHECK(reseeded->get({7}).x.to_vector() != alone.x.to_vector());

    // Labelled pixels are garment pixels brighter than the threshold (64 of 255); the background
    // is at most its contrast (0.25) of full brightness, rounded to a byte.
    const example_batch many = scenes->get({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    const std::vector<float> x = many.x.to_vector(), labels = many.paired.to_vector();
    std::set<float> seen;
    std::size_t foreground = 0;
    for (std::size_t p = 0; p < x.size(); ++p) {
        seen.insert(labels[p]);
        if (labels[p] > 0) {
            ++foreground;
            CHECK(x[p] > 64 / 127.5f - 1.0f);
        } else {
            CHECK(x[p] <= 64 / 127.5f - 1.0f + 1e-5f);  // round(0.25 * 255)
        }
    }
    CHECK(foreground > x.size() / 20);  // garments cover a real share of the canvas
    CHECK(*seen.begin() == 0.0f);
    CHECK(*seen.rbegin() <= 10.0f);
    CHECK(seen.size() > 3);  // several classes among ten scenes
}

TEST_CASE("binary labels and the mask mode describe the same scenes") {
    const auto classes = make<dataset>("{type: fashion_scenes, split: test, count: 5, seed: 1}");
    const auto binary = make<dataset>("{type: fashion_scenes, split: test, count: 5, seed: 1, labels: binary}");
    const auto masks = make<dataset>("{type: fashion_scenes, split: test, count: 5, seed: 1, example: mask}");
    const std::vector<float> l = classes->get({2}).paired.to_vector(), b = binary->get({2}).paired.to_vector();
    const example_batch m = masks->get({2});
    const std::vector<float> mask = m.x.to_vector();
    for (std::size_t p = 0; p < l.size(); ++p) {
        CHECK(b[p] == (l[p] > 0 ? 1.0f : 0.0f));
        CHECK(mask[p] == b[p]);
    }
    CHECK(m.paired.to_vector() == classes->get({2}).x.to_vector());
}

TEST_CASE("fashion_scenes refuses sizes that do not fit and indices out of range") {
    CHECK_THROWS_WITH_AS(make<dataset>("{type: fashion_scenes, canvas: 16, max_size: 20}"),
                         doctest::Contains("garment sizes 12..20 do not fit"), config_error);
    const auto scenes = make<dataset>("{type: fashion_scenes, split: test, count: 3}");
    CHECK_THROWS_WITH(scenes->get({3}), doctest::Contains("scene index 3 is out of range [0, 3)"));
}
