// SPDX-License-Identifier: Apache-2.0
// Tests of the 'moving_fashion_mnist' dataset: bouncing, the Philox draws, frames painted from the
// installed Fashion-MNIST files, batch independence, option errors.
#include "moving_fashion_mnist_dataset.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <set>

using namespace difflab;
using difflab::plugins::bouncing_trajectory;
using difflab::plugins::moving_fashion_mnist_dataset;
using difflab::testing::make;
using position = std::array<std::int64_t, 2>;

namespace {

std::vector<std::int64_t> range(std::int64_t first, std::int64_t count) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(count));
    std::iota(out.begin(), out.end(), first);
    return out;
}

/// The dataset built from its options in YAML with the build's plugins (it loads Fashion-MNIST
/// through the registry), in an experiment whose seed is `experiment_seed`.
moving_fashion_mnist_dataset build_moving(const std::string& yaml, std::uint64_t experiment_seed = 0) {
    build_context context(testing::build_plugins(), experiment_seed);
    return moving_fashion_mnist_dataset(
        moving_fashion_mnist_dataset::params().parse(parse_yaml(yaml, "test.yaml"), parse_context()), context);
}

/// One coordinate of a trajectory.
std::vector<std::int64_t> axis(const std::vector<position>& path, std::size_t d) {
    std::vector<std::int64_t> out;
    for (const position& p : path) out.push_back(p[d]);
    return out;
}

/// Fashion-MNIST image `source` of `fashion` as bytes, resized to side x side by resize_bilinear.
std::vector<std::uint8_t> resized_garment(const dataset& fashion, std::int64_t source, std::int64_t side) {
    std::vector<std::uint8_t> bytes;
    for (float v : fashion.get({source}).x.to_vector())
        bytes.push_back(static_cast<std::uint8_t>(std::lround((v + 1.0f) * 127.5f)));
    REQUIRE(bytes.size() == 784);
    if (side == 28) return bytes;
    return resize_bilinear(image{28, 28, 1, bytes}, side, side).pixels;
}

/// Byte v of a frame as the dataset gives it: v / 255 in [0, 1] mapped to 2 v / 255 - 1.
float mapped(int v) {
    return static_cast<float>(v / 127.5 - 1.0);
}

/// Sequence `index` painted independently of the dataset's get: each drawn garment, the Fashion-MNIST
/// image resized, at bouncing_trajectory's positions, summed, clipped at 255 and mapped. `clipped`
/// counts the pixels whose sum exceeded 255.
std::vector<float> painted(const moving_fashion_mnist_dataset& data, const dataset& fashion, std::int64_t index,
                           std::int64_t side, std::int64_t& clipped) {
    const std::int64_t frames = data.example_shape()[1], canvas = data.example_shape()[2];
    std::vector<int> sum(static_cast<std::size_t>(frames * canvas * canvas), 0);
    for (const auto& g : data.garments(index)) {
        const std::vector<std::uint8_t> garment = resized_garment(fashion, g.source, side);
        const std::vector<position> path = bouncing_trajectory(g.start, g.velocity, frames, canvas - side);
        for (std::int64_t t = 0; t < frames; ++t)
            for (std::int64_t y = 0; y < side; ++y)
                for (std::int64_t x = 0; x < side; ++x)
                    sum[static_cast<std::size_t>((t * canvas + path[static_cast<std::size_t>(t)][0] + y) * canvas +
                                                 path[static_cast<std::size_t>(t)][1] + x)] +=
                        garment[static_cast<std::size_t>(y * side + x)];
    }
    std::vector<float> out;
    for (int s : sum) {
        clipped += s > 255;
        out.push_back(mapped(std::min(s, 255)));
    }
    return out;
}

/// The intensity-weighted centroid (row, column) of frame t of a [1, F, H, W] sequence.
std::array<double, 2> centroid(const std::vector<float>& sequence, std::int64_t t, std::int64_t canvas) {
    double total = 0, row = 0, column = 0;
    for (std::int64_t y = 0; y < canvas; ++y)
        for (std::int64_t x = 0; x < canvas; ++x) {
            const double w = (sequence[static_cast<std::size_t>((t * canvas + y) * canvas + x)] + 1.0) / 2;
            total += w;
            row += w * static_cast<double>(y);
            column += w * static_cast<double>(x);
        }
    REQUIRE(total > 1);
    return {row / total, column / total};
}

}  // namespace

TEST_CASE("bouncing_trajectory moves, bounces off both walls and keeps the speed") {
    // Worked by hand: bounce first (clamp to the wall, negate), then paint, then move.
    // Rows from 14 at +3 in [0, 16]: 14, 17 -> 16 (now -3), 13, 10, 7, 4, 1, -2 -> 0 (now +3), 3, 6.
    // Columns from 2 at -1: 2, 1, 0, -1 -> 0 (now +1), 1, 2, ...: the wall frame shows twice.
    const std::vector<position> path = bouncing_trajectory({14, 2}, {3, -1}, 10, 16);
    CHECK(axis(path, 0) == std::vector<std::int64_t>{14, 16, 13, 10, 7, 4, 1, 0, 3, 6});
    CHECK(axis(path, 1) == std::vector<std::int64_t>{2, 1, 0, 0, 1, 2, 3, 4, 5, 6});
    // Landing exactly on a wall is no bounce yet: the next move is clamped back to it, so the
    // wall frame shows twice at either wall.
    CHECK(axis(bouncing_trajectory({10, 0}, {3, 0}, 6, 16), 0) == std::vector<std::int64_t>{10, 13, 16, 16, 13, 10});
    // Between walls 4 apart at speed 3, both walls in one period: 0, 3, 6 -> 4, 1, -2 -> 0, ...
    CHECK(axis(bouncing_trajectory({0, 0}, {3, 0}, 8, 4), 0) == std::vector<std::int64_t>{0, 3, 4, 1, 0, 3, 4, 1});
    // A speed above the room: from wall to wall every frame.
    CHECK(axis(bouncing_trajectory({1, 0}, {5, 0}, 6, 2), 0) == std::vector<std::int64_t>{1, 2, 0, 2, 0, 2});
    // No room (garment as large as the canvas): always at 0.
    CHECK(axis(bouncing_trajectory({0, 0}, {2, -3}, 4, 0), 1) == std::vector<std::int64_t>{0, 0, 0, 0});
    // A start outside is moved to the wall first; no frames, no positions.
    CHECK(bouncing_trajectory({-5, 30}, {1, 1}, 1, 16) == std::vector<position>{{0, 16}});
    CHECK(bouncing_trajectory({3, 3}, {1, 1}, 0, 16).empty());

    // Any start inside, any velocity: every position inside, and every move is the full speed
    // unless it ends on a wall (where the rest of the step is lost, as in Denton's code).
    philox_stream stream(1, random_purpose("test/bouncing"), 0);
    int free_moves = 0;
    for (int trial = 0; trial < 200; ++trial) {
        const std::int64_t limit = static_cast<std::int64_t>(stream.integer(20));
        const position start{static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(limit + 1))),
                             static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(limit + 1)))};
        const position velocity{static_cast<std::int64_t>(stream.integer(11)) - 5,
                                static_cast<std::int64_t>(stream.integer(11)) - 5};
        const std::vector<position> p = bouncing_trajectory(start, velocity, 40, limit);
        REQUIRE(p.size() == 40);
        CHECK(p[0] == start);
        for (std::size_t t = 0; t < p.size(); ++t)
            for (std::size_t d = 0; d < 2; ++d) {
                CHECK(p[t][d] >= 0);
                CHECK(p[t][d] <= limit);
                if (t == 0) continue;
                const std::int64_t step = std::abs(p[t][d] - p[t - 1][d]);
                const bool on_wall = p[t][d] == 0 || p[t][d] == limit;
                CHECK(step <= std::abs(velocity[d]));
                if (!on_wall) CHECK(step == std::abs(velocity[d]));
                free_moves += !on_wall && velocity[d] != 0;
            }
    }
    CHECK(free_moves > 1000);
}

TEST_CASE("sequences are [1, F, canvas, canvas] in [-1, 1], labelled by their first garment") {
    const auto data = make<dataset>("{type: moving_fashion_mnist, split: test, count: 20, seed: 3}");
    CHECK(data->size() == 20);
    CHECK(data->example_shape() == shape_t{1, 8, 32, 32});
    const example_batch batch = data->get(range(0, 20));
    CHECK(batch.x.shape() == shape_t{20, 1, 8, 32, 32});
    CHECK(batch.x.type() == dtype::f32);
    CHECK(batch.x.is_contiguous());
    CHECK(batch.labels.shape() == shape_t{20});
    CHECK_FALSE(batch.paired.defined());
    const std::vector<float> x = batch.x.to_vector();
    CHECK(*std::min_element(x.begin(), x.end()) == -1.0f);  // background
    CHECK(*std::max_element(x.begin(), x.end()) <= 1.0f);
    CHECK(*std::max_element(x.begin(), x.end()) > 0.5f);  // bright garment pixels

    // The registered component and the class give the same sequences; labels are the class of
    // the first garment, which is that of its Fashion-MNIST test image.
    const auto same = build_moving("{split: test, count: 20, seed: 3}");
    CHECK(same.get(range(0, 20)).x.to_vector() == x);
    const auto fashion = make<dataset>("{type: fashion_mnist, split: test}");
    const std::vector<float> labels = batch.labels.to_vector();
    std::set<float> seen;
    for (std::int64_t i = 0; i < 20; ++i) {
        const auto first = same.garments(i).front();
        CHECK(labels[static_cast<std::size_t>(i)] == static_cast<float>(first.label));
        CHECK(labels[static_cast<std::size_t>(i)] == fashion->get({first.source}).labels.to_vector()[0]);
        seen.insert(labels[static_cast<std::size_t>(i)]);
    }
    CHECK(seen.size() > 3);
}

TEST_CASE("a sequence depends only on its seed and index") {
    const auto data = make<dataset>("{type: moving_fashion_mnist, split: test, count: 50, seed: 4}");
    const example_batch batch = data->get({5, 2, 9, 2});
    const std::vector<float> five = data->get({5}).x.to_vector(), two = data->get({2}).x.to_vector();
    CHECK(batch.x.slice(0, 0, 1).contiguous().to_vector() == five);
    CHECK(batch.x.slice(0, 1, 2).contiguous().to_vector() == two);
    CHECK(batch.x.slice(0, 3, 4).contiguous().to_vector() == two);
    CHECK(data->get({9, 5}).x.slice(0, 1, 2).contiguous().to_vector() == five);
    CHECK(batch.labels.to_vector()[1] == data->get({2}).labels.to_vector()[0]);
    // A second dataset with the same options gives the same sequences.
    CHECK(make<dataset>("{type: moving_fashion_mnist, split: test, count: 50, seed: 4}")->get({5}).x.to_vector() ==
          five);
    CHECK(five != two);

    // Another seed changes every sequence; -1 takes the experiment's seed.
    const auto other = make<dataset>("{type: moving_fashion_mnist, split: test, count: 50, seed: 5}");
    for (std::int64_t i = 0; i < 10; ++i) CHECK(other->get({i}).x.to_vector() != data->get({i}).x.to_vector());
    const auto from_experiment = build_moving("{split: test, count: 50, seed: -1}", 4);
    CHECK(from_experiment.get({5}).x.to_vector() == five);
    CHECK(build_moving("{split: test, count: 50, seed: -1}", 5).get({5}).x.to_vector() ==
          other->get({5}).x.to_vector());

    CHECK_THROWS_WITH_AS(data->get({50}), doctest::Contains("sequence index 50 is out of range [0, 50)"), error);
    CHECK_THROWS_WITH_AS(data->get({-1}), doctest::Contains("sequence index -1 is out of range [0, 50)"), error);
}

TEST_CASE("garments are drawn from the Philox stream (seed, moving_fashion_mnist, i) in order") {
    const auto data = build_moving("{split: test, count: 3000, max_garments: 3, max_speed: 2, canvas: 40, seed: 6}");
    // Replays the documented draws: count, then per garment image, top, left and one of the 24
    // nonzero velocities in row-major order over [-2, 2]^2.
    for (std::int64_t i = 0; i < 100; ++i) {
        philox_stream stream(6, random_purpose("moving_fashion_mnist"), static_cast<std::uint64_t>(i));
        const auto drawn = data.garments(i);
        REQUIRE(drawn.size() == 1 + stream.integer(3));
        for (const auto& g : drawn) {
            CHECK(g.source == static_cast<std::int64_t>(stream.integer(10000)));
            CHECK(g.start[0] == static_cast<std::int64_t>(stream.integer(25)));
            CHECK(g.start[1] == static_cast<std::int64_t>(stream.integer(25)));
            std::int64_t k = static_cast<std::int64_t>(stream.integer(24));
            if (k >= 12) ++k;
            CHECK(g.velocity == position{k / 5 - 2, k % 5 - 2});
        }
    }
    // Over many sequences: every count, every nonzero velocity and never (0, 0), starts that
    // reach both ends of [0, canvas - garment_size], images from the whole test split.
    std::set<std::size_t> counts;
    std::set<position> velocities;
    std::int64_t lowest = 100, highest = -1, first_image = 10000, last_image = -1;
    for (std::int64_t i = 0; i < 3000; ++i) {
        const auto drawn = data.garments(i);
        counts.insert(drawn.size());
        for (const auto& g : drawn) {
            velocities.insert(g.velocity);
            lowest = std::min({lowest, g.start[0], g.start[1]});
            highest = std::max({highest, g.start[0], g.start[1]});
            first_image = std::min(first_image, g.source);
            last_image = std::max(last_image, g.source);
        }
    }
    CHECK(counts == std::set<std::size_t>{1, 2, 3});
    CHECK(velocities.size() == 24);
    CHECK(velocities.count(position{0, 0}) == 0);
    CHECK(*velocities.begin() == position{-2, -2});
    CHECK(*velocities.rbegin() == position{2, 2});
    CHECK(lowest == 0);
    CHECK(highest == 24);
    CHECK(first_image < 20);
    CHECK(last_image >= 9980);
    CHECK(last_image < 10000);
}

TEST_CASE("frames are the resized Fashion-MNIST garments at their bouncing positions") {
    const auto fashion = make<dataset>("{type: fashion_mnist, split: test}");
    SUBCASE("frame 0 of a lone garment is its resized image at its start") {
        const auto data = build_moving("{split: test, count: 40, max_garments: 1, seed: 2}");
        for (std::int64_t i = 0; i < 40; ++i) {
            const auto g = data.garments(i).front();
            const std::vector<std::uint8_t> garment = resized_garment(*fashion, g.source, 16);
            const std::vector<float> x = data.get({i}).x.slice(2, 0, 1).contiguous().to_vector();
            int mismatches = 0, lit = 0;
            for (std::int64_t y = 0; y < 32; ++y)
                for (std::int64_t c = 0; c < 32; ++c) {
                    const bool inside =
                        y >= g.start[0] && y < g.start[0] + 16 && c >= g.start[1] && c < g.start[1] + 16;
                    const int byte =
                        inside ? garment[static_cast<std::size_t>((y - g.start[0]) * 16 + c - g.start[1])] : 0;
                    mismatches += x[static_cast<std::size_t>(y * 32 + c)] != mapped(byte);
                    lit += byte > 0;
                }
            CHECK(mismatches == 0);
            CHECK(lit > 20);
        }
    }
    SUBCASE("every frame of crowded sequences: sums clipped at full intensity") {
        // A 20x20 canvas for up to four 16x16 garments: they overlap, bright on bright.
        const auto data = build_moving("{split: test, count: 30, canvas: 20, max_garments: 4, frames: 6, seed: 8}");
        const std::vector<float> x = data.get(range(0, 30)).x.to_vector();
        std::int64_t clipped = 0;
        for (std::int64_t i = 0; i < 30; ++i) {
            const std::vector<float> expected = painted(data, *fashion, i, 16, clipped);
            CHECK(std::equal(expected.begin(), expected.end(), x.begin() + i * 6 * 400));
        }
        CHECK(clipped > 100);
    }
    SUBCASE("default sizes, several garments") {
        const auto data = build_moving("{split: test, count: 20, max_garments: 4, frames: 12, seed: 9}");
        const std::vector<float> x = data.get(range(0, 20)).x.to_vector();
        std::int64_t clipped = 0;
        for (std::int64_t i = 0; i < 20; ++i) {
            const std::vector<float> expected = painted(data, *fashion, i, 16, clipped);
            CHECK(std::equal(expected.begin(), expected.end(), x.begin() + i * 12 * 1024));
        }
    }
    SUBCASE("a garment as large as the canvas stands still") {
        // 28x28: the Fashion-MNIST image itself, in every frame.
        const auto data =
            build_moving("{split: test, count: 5, canvas: 28, garment_size: 28, max_garments: 1, frames: 3, seed: 1}");
        for (std::int64_t i = 0; i < 5; ++i) {
            const auto g = data.garments(i).front();
            const std::vector<float> x = data.get({i}).x.to_vector();
            const std::vector<float> image = fashion->get({g.source}).x.to_vector();
            for (std::int64_t t = 0; t < 3; ++t) CHECK(std::equal(image.begin(), image.end(), x.begin() + t * 784));
        }
    }
}

TEST_CASE("train sequences use training images and test sequences test images") {
    const auto train = build_moving("{split: train, count: 2000, max_garments: 1, seed: 5}");
    const auto test = build_moving("{split: test, count: 2000, max_garments: 1, seed: 5}");
    std::int64_t last_train = -1, last_test = -1;
    for (std::int64_t i = 0; i < 2000; ++i) {
        last_train = std::max(last_train, train.garments(i).front().source);
        last_test = std::max(last_test, test.garments(i).front().source);
    }
    CHECK(last_train >= 59000);  // beyond the 10,000 test images
    CHECK(last_test < 10000);
    CHECK(train.get(range(0, 8)).x.to_vector() != test.get(range(0, 8)).x.to_vector());

    // A training sequence shows its training image, resized, at its start.
    const auto fashion = make<dataset>("{type: fashion_mnist, split: train}");
    std::int64_t i = 0;
    while (train.garments(i).front().source < 10000) ++i;
    const auto g = train.garments(i).front();
    const std::vector<std::uint8_t> garment = resized_garment(*fashion, g.source, 16);
    const std::vector<float> frame = train.get({i}).x.slice(2, 0, 1).contiguous().to_vector();
    for (std::int64_t y = 0; y < 16; ++y)
        for (std::int64_t c = 0; c < 16; ++c)
            CHECK(frame[static_cast<std::size_t>((g.start[0] + y) * 32 + g.start[1] + c)] ==
                  mapped(garment[static_cast<std::size_t>(y * 16 + c)]));
    CHECK(train.get({i}).labels.to_vector()[0] == fashion->get({g.source}).labels.to_vector()[0]);
}

TEST_CASE("a lone garment's intensity centroid moves by its velocity away from the walls") {
    const auto data = build_moving(
        "{split: test, count: 30, max_garments: 1, canvas: 48, garment_size: 12, "
        "frames: 16, max_speed: 3, seed: 11}");
    int free_moves = 0, bounces = 0;
    for (std::int64_t i = 0; i < 30; ++i) {
        const auto g = data.garments(i).front();
        const std::vector<float> x = data.get({i}).x.to_vector();
        const std::array<double, 2> c0 = centroid(x, 0, 48);
        for (std::int64_t t = 1; t < 16; ++t) {
            const std::array<double, 2> c = centroid(x, t, 48), before = centroid(x, t - 1, 48);
            for (std::size_t d = 0; d < 2; ++d) {
                // Until the first wall the garment is at start + t * velocity.
                bool free = true;
                for (std::int64_t s = 0; s <= t; ++s) {
                    const std::int64_t p = g.start[d] + s * g.velocity[d];
                    free = free && p >= 0 && p <= 36;
                }
                if (free) {
                    CHECK(c[d] - before[d] == doctest::Approx(static_cast<double>(g.velocity[d])).epsilon(1e-4));
                    CHECK(c[d] - c0[d] == doctest::Approx(static_cast<double>(t * g.velocity[d])).epsilon(1e-4));
                    free_moves += g.velocity[d] != 0;
                } else {
                    // After it, the centroid follows the bouncing trajectory.
                    const auto path = bouncing_trajectory(g.start, g.velocity, t + 1, 36);
                    CHECK(c[d] - c0[d] ==
                          doctest::Approx(static_cast<double>(path.back()[d] - g.start[d])).epsilon(1e-4));
                    ++bounces;
                }
            }
        }
    }
    CHECK(free_moves > 50);
    CHECK(bounces > 50);
}

TEST_CASE("options that cannot work are configuration errors saying what to change") {
    CHECK_THROWS_WITH_AS(
        make<dataset>("{type: moving_fashion_mnist, garment_size: 40}"),
        doctest::Contains("garment_size 40 does not fit in the canvas (32); set garment_size <= canvas"), config_error);
    CHECK_THROWS_AS(build_moving("{canvas: 16, garment_size: 17}"), config_error);
    CHECK(build_moving("{split: test, canvas: 16, garment_size: 16, count: 2}").example_shape() ==
          shape_t{1, 8, 16, 16});
    for (const char* bad : {"frames: 0", "frames: 65", "max_garments: 0", "max_garments: 5", "max_speed: 0", "count: 0",
                            "split: validation", "seed: -2", "canvas: 2", "garment_size: 0"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(make<dataset>(fmt::format("{{type: moving_fashion_mnist, {}}}", bad)), config_error);
    }
    CHECK_THROWS_WITH_AS(make<dataset>("{type: moving_fashion_mnist, split: test, directory: /nonexistent}"),
                         doctest::Contains("missing Fashion-MNIST file"), config_error);
}
