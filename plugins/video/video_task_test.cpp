// SPDX-License-Identifier: Apache-2.0
// The video task on a tiny video U-Net: given frames kept, methods' costs, outputs, metrics and errors.
#include <difflab/io/image_io.h>
#include <difflab/run/evaluation.h>
#include <difflab/testing/task_testing.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "video_metrics.h"
#include "video_output.h"

using namespace difflab;
using namespace difflab::plugins;
namespace fs = std::filesystem;

namespace {

const char* const data_yaml =
    "{type: moving_fashion_mnist, split: test, count: 8, frames: 4, canvas: 16, garment_size: 8, seed: 3}";

/// A video U-Net trained for two steps on Moving Fashion-MNIST (it knows nothing), sampled with
/// DDIM in 4 steps; `task` completes the experiment.
std::string tiny(const std::string& task, const std::string& extra = "") {
    return fmt::format(
        "name: tiny\nseed: 3\ndata: {}\n"
        "process: {{type: ddpm, schedule: linear, steps: 100}}\n"
        "network: {{type: unet3d, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}}\n"
        "train: {{steps: 2, batch_size: 4, checkpoint_every: 2}}\n"
        "sample: {{sampler: {{type: ddim, steps: 4}}, count: 4, batch_size: 2, trajectory: 0}}\n"
        "task: {}\n{}",
        data_yaml, task, extra);
}

fs::path run(const std::string& yaml, const std::string& name) {
    return testing::run_experiment(yaml, "video_" + name);
}

/// The true videos of n samples, `draws` of each: sample s is draw s / V of test video s % V.
tensor truths(std::int64_t n, std::int64_t draws = 1) {
    const auto data = testing::make<dataset>(data_yaml);
    std::vector<std::int64_t> indices;
    for (std::int64_t s = 0; s < n; ++s) indices.push_back(s % (n / draws));
    return data->get(indices).x;
}

/// The largest and the mean |a - b| over frames [first, last) of videos [N, C, F, H, W].
struct difference {
    float largest = 0;
    double mean = 0;
};
difference frame_difference(const tensor& a, const tensor& b, std::int64_t first, std::int64_t last) {
    difference d;
    std::size_t count = 0;
    for (std::int64_t f = first; f < last; ++f) {
        const std::vector<float> x = frame_batch(a, f).to_vector(), y = frame_batch(b, f).to_vector();
        for (std::size_t i = 0; i < x.size(); ++i) {
            d.largest = std::max(d.largest, std::abs(x[i] - y[i]));
            d.mean += std::abs(x[i] - y[i]);
        }
        count += x.size();
    }
    d.mean /= static_cast<double>(count);
    return d;
}

std::string report_of(const fs::path& dir) {
    return testing::read_text(dir / "report.md");
}

}  // namespace

TEST_CASE("video prediction with RaMViD's clean frames: given frames exact, strips, GIFs, per-frame metrics") {
    const fs::path dir = run(tiny("{type: video, mode: prediction, given: 2, uncondition_rate: 0.5, "
                                  "samples_per_video: 2, shown: 2}",
                                  "evaluate: {metrics: [psnr, ssim]}\n"),
                             "clean");
    const tensor samples = testing::samples_of(dir), truth = truths(4, 2);
    REQUIRE(samples.shape() == shape_t{4, 1, 4, 16, 16});
    // The given frames are the truth's in every state; the output is the final denoised estimate
    // at t_min, within its rounding of them. The generated frames are an untrained network's guess.
    CHECK(frame_difference(samples, truth, 0, 2).largest < 1e-3f);
    CHECK(frame_difference(samples, truth, 2, 4).largest > 0.5f);
    // Two draws of a video share its given frames and differ in the others.
    CHECK(frame_difference(samples.slice(0, 0, 2), samples.slice(0, 2, 4), 0, 2).largest < 1e-3f);
    CHECK(frame_difference(samples.slice(0, 0, 2), samples.slice(0, 2, 4), 2, 4).largest > 0.1f);

    const image strip = read_png(dir / "samples/strip.png");
    CHECK(strip.height > strip.width / 2);  // 2 videos x (truth + 2 draws) rows of 4 frames
    const decoded_gif gif = read_animated_gif(dir / "samples/video_001.gif");
    CHECK(gif.frames.size() == 4);
    CHECK(gif.loops);
    CHECK(!fs::exists(dir / "samples/video_002.gif"));

    const std::string report = report_of(dir);
    CHECK(report.find("2 of 4 frames given (prediction), clean_replacement") != std::string::npos);
    CHECK(report.find("(4 network evaluations per batch") != std::string::npos);
    CHECK(report.find("## Per generated frame") != std::string::npos);
    CHECK(report.find("video_001.gif") != std::string::npos);
    const auto psnr = testing::metric_of(dir, "psnr"), best = testing::metric_of(dir, "psnr_best");
    const auto centroid = testing::metric_of(dir, "centroid_error");
    const auto centroid_best = testing::metric_of(dir, "centroid_error_best");
    REQUIRE(psnr);
    REQUIRE(best);
    REQUIRE(testing::metric_of(dir, "ssim_best"));
    REQUIRE(centroid);
    REQUIRE(centroid_best);
    CHECK(*best >= *psnr);  // the best of two draws is at least their mean
    CHECK(*centroid_best <= *centroid);
    fs::remove_all(dir);
}

TEST_CASE("replacement noises the given frames, reconstruction guidance spends two evaluations a step") {
    const fs::path replaced =
        run(tiny("{type: video, given: 2, method: replacement, uncondition_rate: 1}"), "replacement");
    const tensor truth = truths(4), plain = testing::samples_of(replaced);
    // Replaced at every state down to t_min, the given frames end within the last step's noise.
    CHECK(frame_difference(plain, truth, 0, 2).largest < 0.1f);
    CHECK(frame_difference(plain, truth, 0, 2).largest > 0.0f);
    CHECK(report_of(replaced).find("(4 network evaluations per batch") != std::string::npos);
    fs::remove_all(replaced);

    const fs::path guided = run(tiny("{type: video, mode: infilling, given: 2, method: reconstruction_guidance, "
                                     "guidance: {scale: 5}, uncondition_rate: 1}"),
                                "guided");
    const tensor out = testing::samples_of(guided);
    // Infilling: frames 0 and 3 given. The final estimate moves them by the guidance term, a
    // little, and the untrained network's frames 1 and 2 stay far from the truth.
    CHECK(frame_difference(out, truth, 0, 1).mean < 0.05);
    CHECK(frame_difference(out, truth, 3, 4).mean < 0.05);
    CHECK(frame_difference(out, truth, 1, 3).mean > 0.3);
    const std::string report = report_of(guided);
    CHECK(report.find("reconstruction_guidance at w_r 5") != std::string::npos);
    CHECK(report.find("(8 network evaluations per batch") != std::string::npos);
    fs::remove_all(guided);
}

TEST_CASE("the video task refuses image data, uneven draws and clean frames for an unconditional model") {
    const std::string images =
        "name: tiny\nseed: 3\ndata: {type: fashion_mnist, split: test, limit: 16}\n"
        "process: {type: ddpm, schedule: linear, steps: 100}\n"
        "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}\n"
        "train: {steps: 0}\nsample: {sampler: {type: ddim, steps: 4}, count: 4}\ntask: {type: video}\n";
    CHECK(testing::experiment_error(images) ==
          "error: video: the data's examples are [1, 28, 28], but the task needs videos [C, F, H, W]; use a video "
          "data set such as moving_fashion_mnist");
    CHECK(testing::experiment_error(tiny("{type: video, given: 2, samples_per_video: 3}")) ==
          "error: video: sample.count 4 is not a multiple of samples_per_video 3; make it videos x draws");
    CHECK(testing::experiment_error(tiny("{type: video, given: 4}")).find("prediction needs 1 to 3 given frames") !=
          std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: video, uncondition_rate: 1}")).find(
              "method clean_replacement needs a model trained with clean frames") != std::string::npos);
}
