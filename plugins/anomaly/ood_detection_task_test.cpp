// SPDX-License-Identifier: Apache-2.0
// The ood_detection task on a tiny U-Net: flipped images against upright ones, its values and errors.
#include <difflab/testing/task_testing.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

std::string tiny(const std::string& task, std::int64_t count = 20) {
    return "name: tiny\nseed: 3\ndata: {type: fashion_mnist, split: test, limit: 24}\n"
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}\n"
           "train: {steps: 2, batch_size: 4, checkpoint_every: 2}\n"
           "sample: {sampler: {type: ddim, steps: 3}, count: " +
           std::to_string(count) + ", batch_size: 8, columns: 4, trajectory: 0}\ntask: " + task + "\n";
}

}  // namespace

TEST_CASE("ood detection scores outliers against in-distribution images, per start and combined") {
    const fs::path run = testing::run_experiment(
        tiny("{type: ood_detection, t_start: [0.2, 0.5], validation_count: 6, outliers: {type: fashion_mnist, "
             "split: test, limit: 24, flip: vertical}, likelihood: {type: nll_bpd, rtol: 0.1, atol: 0.1}}"),
        "ood");
    for (const char* name : {"image_auroc", "image_ap", "image_auroc_t0.2", "image_auroc_t0.5", "likelihood_auroc"}) {
        CAPTURE(name);
        const auto v = testing::metric_of(run, name);
        REQUIRE(v.has_value());
        CHECK(*v >= 0.0);
        CHECK(*v <= 1.0);
    }
    CHECK(fs::exists(run / "samples/ood_detection.png"));
    CHECK(testing::read_text(run / "report.md")
              .find("6 in-distribution validation images, 7 in-distribution and 7 "
                    "outlier images scored") != std::string::npos);
    fs::remove_all(run);
}

TEST_CASE("one-class detection: held-out images of one class against the other classes") {
    const fs::path run = testing::run_experiment(
        tiny("{type: ood_detection, t_start: [0.3], validation_count: 6, held_out: {type: fashion_mnist, split: test, "
             "classes: [0]}, outliers: {type: fashion_mnist, split: test, classes: [1, 2, 3, 4, 5, 6, 7, 8, 9]}}"),
        "one_class");
    REQUIRE(testing::metric_of(run, "image_auroc").has_value());
    CHECK(testing::read_text(run / "report.md").find("classes: [1, 2, 3") != std::string::npos);
    fs::remove_all(run);
}

TEST_CASE("ood detection refuses what it cannot do, saying how to fix it") {
    CHECK(testing::experiment_error(tiny("{type: ood_detection}")).find("needs `outliers`") != std::string::npos);
    CHECK(testing::experiment_error(
              tiny("{type: ood_detection, validation_count: 19, outliers: {type: fashion_mnist, split: test}}"))
              .find("leave none to score after the 19 validation images") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: ood_detection, validation_count: 4, outliers: {type: fashion_mnist, "
                                         "split: test}, held_out: {type: fashion_mnist, split: test, size: 32}}"))
              .find("the held_out examples [1, 32, 32] differ") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: ood_detection, validation_count: 4, outliers: {type: fashion_mnist, "
                                         "split: test, size: 32}}"))
              .find("the outliers examples [1, 32, 32] differ from the data's [1, 28, 28]") != std::string::npos);
}
