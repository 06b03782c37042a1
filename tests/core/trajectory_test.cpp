// SPDX-License-Identifier: Apache-2.0
// Tests of the denoising-trajectory recorder and its strip image.
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/trajectory.h>
#include <difflab/io/image_io.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// Variance exploding: x_t = x0 + 3 t eps, so sqrt(alpha^2 + sigma^2) = sqrt(1 + 9 t^2).
class ve_process final : public process {
public:
    double alpha(double) const override { return 1.0; }
    double sigma(double t) const override { return 3.0 * t; }
    double t_min() const override { return 0.0; }
};

/// The pixel byte image_grid writes for value v in [-1, 1].
int byte_of(double v) {
    return static_cast<int>(std::lround((std::clamp(v, -1.0, 1.0) + 1.0) * 127.5));
}

}  // namespace

TEST_CASE("the trajectory recorder passes evaluations through and keeps the first rows of each") {
    const ve_process p;
    const gaussian_denoiser exact(p, 0.5);
    const trajectory_recorder recorder(exact, 2);
    const tensor x = randn({3, 4}, 1, random_purpose("test.x"));
    for (double t : {1.0, 0.5, 0.25}) {
        const tensor through = recorder.x0(x * static_cast<float>(t), t);
        CHECK(through.to_vector() == exact.x0(x * static_cast<float>(t), t).to_vector());
    }
    (void)recorder.eps(x, 0.1);  // eps and score evaluate the model too
    CHECK(recorder.evaluations() == 4);
    REQUIRE(recorder.frames().size() == 4);
    const trajectory_frame& second = recorder.frames()[1];
    CHECK(second.t == 0.5);
    CHECK(second.x.shape() == shape_t{2, 4});
    CHECK(second.x.to_vector() == (x * 0.5f).slice(0, 0, 2).contiguous().to_vector());
    CHECK(second.x0.to_vector() == exact.x0(x * 0.5f, 0.5).slice(0, 0, 2).contiguous().to_vector());
    CHECK_THROWS_WITH_AS(trajectory_recorder(exact, 0), "error: trajectory: record at least 1 sample, not 0", std::exception);
}

TEST_CASE("strip frames are spread evenly from the first evaluation to the last") {
    CHECK(strip_frames(10, 4) == std::vector<std::size_t>{0, 3, 6, 9});
    CHECK(strip_frames(1000, 3) == std::vector<std::size_t>{0, 500, 999});
    CHECK(strip_frames(3, 8) == std::vector<std::size_t>{0, 1, 2});
    CHECK(strip_frames(5, 1) == std::vector<std::size_t>{0});
    CHECK(strip_frames(0, 4).empty());
}

TEST_CASE("the strip shows x_t scaled to unit variance, the estimate, and the final sample") {
    const ve_process p;
    std::vector<trajectory_frame> frames;
    // Two recorded samples of 1x2x2 images, three evaluations, constant images per cell.
    for (double t : {1.0, 0.5, 0.0}) {
        const float x = static_cast<float>(0.3 * (1 + 3 * t)), x0 = static_cast<float>(-t / 2);
        frames.push_back({t, concat({tensor::full({1, 1, 2, 2}, x), tensor::full({1, 1, 2, 2}, -x)}, 0),
                          concat({tensor::full({1, 1, 2, 2}, x0), tensor::full({1, 1, 2, 2}, 2 * x0)}, 0)});
    }
    const tensor samples = concat(
        {tensor::full({1, 1, 2, 2}, 0.25f), tensor::full({1, 1, 2, 2}, -0.75f), tensor::full({1, 1, 2, 2}, 0.0f)}, 0);
    const fs::path file = fs::temp_directory_path() / ("difflab_trajectory_" + std::to_string(::getpid()) + ".png");
    const std::vector<double> times = write_trajectory_strip(file, p, frames, samples, 2);
    CHECK(times == std::vector<double>{1.0, 0.0});
    const image strip = read_png(file);
    fs::remove(file);
    // 2 frames + the sample across, 2 samples x (x_t, estimate) down; cells 2x2 with padding 2.
    CHECK(strip.width == 3 * 4 + 2);
    CHECK(strip.height == 4 * 4 + 2);
    const auto pixel = [&](int row, int column) {
        return static_cast<int>(strip.pixels[static_cast<std::size_t>((2 + 4 * row) * strip.width + 2 + 4 * column)]);
    };
    // Sample 0: x_t = 0.3 (1 + 3t) divided by sqrt(1 + 9 t^2).
    CHECK(pixel(0, 0) == byte_of(0.3 * 4 / std::sqrt(10.0)));
    CHECK(pixel(0, 1) == byte_of(0.3));
    CHECK(pixel(0, 2) == byte_of(0.25));
    CHECK(pixel(1, 0) == byte_of(-0.5));
    CHECK(pixel(1, 1) == byte_of(0.0));
    CHECK(pixel(1, 2) == byte_of(0.25));
    // Sample 1.
    CHECK(pixel(2, 0) == byte_of(-0.3 * 4 / std::sqrt(10.0)));
    CHECK(pixel(3, 0) == byte_of(-1.0));
    CHECK(pixel(3, 2) == byte_of(-0.75));
}
