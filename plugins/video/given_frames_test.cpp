// SPDX-License-Identifier: Apache-2.0
// Tests of which frames are given: sampling patterns, RaMViD's training draws, clean replacement.
#include "given_frames.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// The given frames of row i of a clean mask [n, 1, F, 1, 1].
std::vector<std::int64_t> frames_of_row(const tensor& mask, std::int64_t i) {
    const std::int64_t frames = mask.size(2);
    const std::vector<float> m = mask.to_vector();
    std::vector<std::int64_t> out;
    for (std::int64_t f = 0; f < frames; ++f)
        if (m[static_cast<std::size_t>(i * frames + f)] == 1.0f) out.push_back(f);
    return out;
}

}  // namespace

TEST_CASE("given frames: prediction the first k, infilling both ends, generation none") {
    using list = std::vector<std::int64_t>;
    CHECK(given_frames("prediction", 8, 4) == list{0, 1, 2, 3});
    CHECK(given_frames("infilling", 8, 4) == list{0, 1, 6, 7});
    CHECK(given_frames("infilling", 8, 3) == list{0, 1, 7});
    CHECK(given_frames("infilling", 8, 1) == list{0});
    CHECK(given_frames("generation", 8, 4).empty());
    CHECK(generated_frames(8, {0, 1, 6, 7}) == list{2, 3, 4, 5});
    CHECK(generated_frames(3, {}) == list{0, 1, 2});
    CHECK_THROWS_WITH_AS(given_frames("prediction", 8, 8),
                         "error: video: prediction needs 1 to 7 given frames of the 8 (at least one to generate), got "
                         "given: 8; set task.given in that range",
                         config_error);
    CHECK_THROWS_AS(given_frames("infilling", 8, 0), config_error);
}

TEST_CASE("frame_mask marks the given frames of every video") {
    const tensor m = frame_mask(2, 5, {1, 4});
    CHECK(m.shape() == shape_t{2, 1, 5, 1, 1});
    CHECK(m.to_vector() == std::vector<float>{0, 1, 0, 0, 1, 0, 1, 0, 0, 1});
}

TEST_CASE("RaMViD's training draws: the unconditional share, 1..K distinct frames, keyed by data position") {
    const std::int64_t n = 4000, frames = 8, k = 3;
    const tensor all = draw_training_frames(n, frames, 100, 7, 0.25, k);
    CHECK(all.shape() == shape_t{n, 1, frames, 1, 1});
    std::vector<std::int64_t> by_count(frames + 1, 0);
    for (std::int64_t i = 0; i < n; ++i) ++by_count[frames_of_row(all, i).size()];
    // A quarter unconditional, the rest spread evenly over 1..K given frames, never more.
    CHECK(std::abs(by_count[0] / double(n) - 0.25) < 0.03);
    for (std::int64_t c = 1; c <= k; ++c) CHECK(std::abs(by_count[c] / double(n) - 0.75 / k) < 0.03);
    for (std::int64_t c = k + 1; c <= frames; ++c) CHECK(by_count[c] == 0);
    // Every frame position is drawn about equally often: any pattern, not just a prefix.
    std::vector<std::int64_t> by_frame(frames, 0);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t f : frames_of_row(all, i)) ++by_frame[f];
    for (std::int64_t f = 0; f < frames; ++f) CHECK(std::abs(by_frame[f] / double(n) - 0.75 * 2.0 / frames) < 0.03);
    // Position p's draw is its own: the same rows in another batch, another seed differs.
    const tensor part = draw_training_frames(5, frames, 110, 7, 0.25, k);
    for (std::int64_t i = 0; i < 5; ++i) CHECK(frames_of_row(part, i) == frames_of_row(all, 10 + i));
    CHECK(draw_training_frames(64, frames, 100, 8, 0.25, k).to_vector() !=
          all.slice(0, 0, 64).contiguous().to_vector());
    CHECK(testing::relative_error(draw_training_frames(16, frames, 0, 7, 1.0, k),
                                  tensor::zeros({16, 1, frames, 1, 1})) == 0.0);
}

TEST_CASE("clean replacement sets the given frames to the data exactly and leaves the others") {
    auto h = testing::make<measurement>("{type: mask, observed_frames: [0, 2]}");
    h->bind({1, 4, 3, 3});
    const tensor x0 = randn({2, 1, 4, 3, 3}, 1, random_purpose("test.x0"));
    const tensor x = randn({2, 1, 4, 3, 3}, 2, random_purpose("test.x"));
    const clean_replacement replace(*h, h->apply(x0));
    const std::vector<float> out = replace.apply(x, 0.5, 3, sampling_context{}).to_vector(), a = x0.to_vector(),
                             b = x.to_vector();
    for (std::size_t i = 0; i < out.size(); ++i) {
        const std::size_t frame = (i / 9) % 4;
        CHECK(out[i] == (frame == 0 || frame == 2 ? a[i] : b[i]));
    }
}
