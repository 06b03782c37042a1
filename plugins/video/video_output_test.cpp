// SPDX-License-Identifier: Apache-2.0
// Tests of the video outputs: an animated GIF read back frame by frame, side-by-side panels.
#include "video_output.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    return fs::temp_directory_path() / ("difflab_video_" + name + "_" + std::to_string(::getpid()));
}

}  // namespace

TEST_CASE("an animated GIF keeps every gray level of every frame, loops, and has its delay") {
    std::vector<image> frames;
    for (int f = 0; f < 3; ++f) {
        image img{16, 16, 1, std::vector<std::uint8_t>(256)};
        for (int i = 0; i < 256; ++i)
            img.pixels[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i + 85 * f) % 256);
        frames.push_back(img);
    }
    const fs::path file = scratch("levels") += ".gif";
    write_animated_gif(file, frames, 40);
    const decoded_gif back = read_animated_gif(file);
    REQUIRE(back.frames.size() == 3);
    for (std::size_t f = 0; f < 3; ++f) {
        CHECK(back.frames[f].width == 16);
        CHECK(back.frames[f].pixels == frames[f].pixels);
        CHECK(back.delays_cs[f] == 40);
    }
    CHECK(back.loops);
    fs::remove(file);
}

TEST_CASE("GIF errors: no frames, mixed sizes, colour, and a truncated file") {
    CHECK_THROWS_WITH_AS(encode_animated_gif({}, 10), "error: GIF: no frames to write; give at least one", error);
    const image small{4, 4, 1, std::vector<std::uint8_t>(16)}, large{5, 4, 1, std::vector<std::uint8_t>(20)};
    CHECK_THROWS_AS(encode_animated_gif({small, large}, 10), error);
    CHECK_THROWS_AS(encode_animated_gif({image{4, 4, 3, std::vector<std::uint8_t>(48)}}, 10), error);
    const std::string bytes = encode_animated_gif({small, small}, 10);
    const fs::path file = scratch("truncated") += ".gif";
    std::ofstream(file, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    CHECK_THROWS_AS(read_animated_gif(file), error);
    fs::remove(file);
    CHECK_THROWS_AS(read_animated_gif(scratch("missing")), error);
}

TEST_CASE("side-by-side frames: truth left, sample right, magnified, grey border on given frames") {
    const tensor truth = tensor::full({1, 2, 3, 3}, 1.0f), sample = tensor::full({1, 2, 3, 3}, -1.0f);
    const std::vector<image> frames = side_by_side_frames(truth, sample, {0}, 2, 1);
    REQUIRE(frames.size() == 2);
    const image& given = frames[0];
    CHECK(given.width == 2 * 6 + 3);
    CHECK(given.height == 6 + 2);
    const auto at = [](const image& img, std::int64_t y, std::int64_t x) {
        return img.pixels[static_cast<std::size_t>(y * img.width + x)];
    };
    CHECK(at(given, 0, 0) == 128);    // the border of a given frame
    CHECK(at(frames[1], 0, 0) == 0);  // a generated frame's
    CHECK(at(given, 1, 1) == 255);    // the truth (white)
    CHECK(at(given, 6, 6) == 255);    // its last magnified pixel
    CHECK(at(given, 1, 8) == 0);      // the sample (black)
    CHECK(at(given, 1, 7) == 128);    // the border between them
    CHECK_THROWS_AS(side_by_side_frames(truth, tensor::full({1, 3, 3, 3}, 0.0f), {}), error);
}

TEST_CASE("frames_of and video_at reorder a video into its frames") {
    std::vector<float> v(2 * 1 * 3 * 1 * 2);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
    const tensor videos = tensor::from_vector({2, 1, 3, 1, 2}, v);
    const tensor second = video_at(videos, 1);
    CHECK(second.shape() == shape_t{1, 3, 1, 2});
    CHECK(frames_of(second).shape() == shape_t{3, 1, 1, 2});
    CHECK(frames_of(second).to_vector() == std::vector<float>{6, 7, 8, 9, 10, 11});
    CHECK_THROWS_AS(video_at(videos, 2), error);
}
