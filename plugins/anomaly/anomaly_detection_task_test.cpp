// SPDX-License-Identifier: Apache-2.0
// The anomaly_detection task on a tiny U-Net: its outputs, multi-start with simplex noise, errors.
#include <difflab/testing/task_testing.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// A U-Net trained two steps (on times below 0.5) on 24 Fashion-MNIST test images, reconstructing
/// with DDIM in 3 steps; `task` and `extra` complete the experiment.
std::string tiny(const std::string& task, const std::string& extra = "") {
    return "name: tiny\nseed: 3\ndata: {type: fashion_mnist, split: test, limit: 24}\n"
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}\n"
           "train: {steps: 2, batch_size: 4, checkpoint_every: 2}\n"
           "sample: {sampler: {type: ddim, steps: 3}, count: 24, batch_size: 8, columns: 4, trajectory: 0}\n"
           "task: " +
           task + "\n" + extra;
}

double value(const fs::path& run, const std::string& name) {
    const auto v = testing::metric_of(run, name);
    REQUIRE_MESSAGE(v.has_value(), "no value " << name);
    return *v;
}

}  // namespace

TEST_CASE("anomaly detection scores images and pixels, from several starts, with simplex noise") {
    const fs::path run = testing::run_experiment(
        tiny("{type: anomaly_detection, t_start: [0.2, 0.4], train_max_time: 0.5, validation_count: 10, "
             "anomaly_size: 6}",
             "noise: {type: simplex, octaves: 2, frequency: 8}\n"),
        "anomaly");
    for (const char* name : {"image_auroc", "image_ap", "pixel_auroc", "dice"}) {
        CAPTURE(name);
        CHECK(value(run, name) >= 0.0);
        CHECK(value(run, name) <= 1.0);
    }
    CHECK(fs::exists(run / "samples/anomaly_detection.png"));
    const std::string report = testing::read_text(run / "report.md");
    CHECK(report.find("reconstructing from t_start = 0.2") != std::string::npos);
    CHECK(report.find("reconstructing from t_start = 0.4") != std::string::npos);
    // DDIM's 3 times from each start, then the landing on clean data.
    CHECK(report.find("(3 network evaluations per batch") != std::string::npos);
    fs::remove_all(run);
}

TEST_CASE("anomaly detection refuses what it cannot do, saying how to fix it") {
    CHECK(testing::experiment_error(tiny("{type: anomaly_detection, t_start: [0.005]}"))
              .find("t_start 0.005 is outside (t_min, t_max] = (0.01, 1]") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: anomaly_detection, validation_count: 30}"))
              .find("24 images leave none to score after the 30 of the validation split") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: anomaly_detection, anomalous_fraction: 0, validation_count: 10}"))
              .find("the validation split needs normal and anomalous images") != std::string::npos);
}
