// SPDX-License-Identifier: Apache-2.0
// The segmentation task on tiny scenes: what each method writes, a case it must get right, errors.
#include <difflab/io/image_io.h>
#include <difflab/testing/task_testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "label_palette.h"

using namespace difflab;
using namespace difflab::plugins;
namespace fs = std::filesystem;

namespace {

/// 16 x 16 scenes of 6..10-pixel garments; 8 labelled training scenes, 6 test scenes; a tiny
/// U-Net; `task` completes the task's map.
std::string tiny(const std::string& task, const std::string& labels = "classes", const std::string& extra = "") {
    const std::string scenes = "type: fashion_scenes, canvas: 16, min_size: 6, max_size: 10, labels: " + labels;
    return "name: tiny\nseed: 3\ndata: {" + scenes + ", split: train, count: 8}\n" +
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4" +
           extra + "}\n" +
           "train: {steps: 2, batch_size: 4, checkpoint_every: 2}\n"
           "sample: {count: 6, batch_size: 6, columns: 3}\n"
           "evaluate: {count: 6, metrics: [{type: iou, classes: " +
           (labels == "binary" ? "2" : "11") + "}, {type: dice, classes: " + (labels == "binary" ? "2" : "11") +
           "}]}\n" + "task: {type: segmentation, test: {" + scenes + ", split: test, count: 6}, members: 2, " +
           "feature_batch: 4, classes: " + (labels == "binary" ? "2" : "11") + ", " + task + "}\n";
}

double metric_value(const fs::path& run, const std::string& name) {
    const std::optional<double> value = testing::metric_of(run, name);
    REQUIRE_MESSAGE(value.has_value(), "no metric " << name);
    return *value;
}

}  // namespace

TEST_CASE("segmentation from diffusion features: label maps of class ids, the figure, metrics, the feature size") {
    const fs::path dir = testing::run_experiment(
        tiny("method: features, max_epochs: 3, times: [0.1, 0.3], taps: [decoder.1, decoder.3]"),
        "segmentation_features");
    const tensor maps = testing::samples_of(dir);
    CHECK(maps.shape() == shape_t{6, 1, 16, 16});
    bool class_ids = true;
    for (float v : maps.to_vector()) class_ids = class_ids && v >= 0 && v <= 10 && v == std::round(v);
    CHECK(class_ids);
    CHECK(fs::exists(dir / "samples/segmentation.png"));
    // The palette PNG of the predicted maps shows each pixel in its class's color.
    const image shown = read_png(dir / "samples/labels.png");
    const image expected = to_image(palette_images(maps.slice(0, 0, 1)).reshape({3, 16, 16}));
    bool first_map_in_colors = true;
    for (std::int64_t y = 0; y < 16; ++y)
        for (std::int64_t x = 0; x < 16; ++x)
            for (std::int64_t c = 0; c < 3; ++c)
                first_map_in_colors = first_map_in_colors &&
                                      shown.pixels[static_cast<std::size_t>(((2 + y) * shown.width + 2 + x) * 3 + c)] ==
                                          expected.pixels[static_cast<std::size_t>((y * 16 + x) * 3 + c)];
    CHECK(first_map_in_colors);
    CHECK(fs::exists(dir / "samples/true_labels.png"));
    // Two times x (16 channels of decoder.1 + 8 of decoder.3) for this U-Net.
    CHECK(metric_value(dir, "feature_channels") == 48);
    CHECK(metric_value(dir, "labelled_pixels") <= 8 * 256);
    CHECK(metric_value(dir, "labelled_pixels") > 4 * 256);
    CHECK(metric_value(dir, "iou") >= 0);
    CHECK(metric_value(dir, "dice") <= 1);
    CHECK(metric_value(dir, "image_uncertainty") >= 0);
    CHECK(testing::read_text(dir / "report.md").find("2 pixel MLPs") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("segmentation from raw pixels separates binary scenes, whose label is a threshold on the value") {
    // A garment pixel is painted and labelled when brighter than 64 of 255; the background is at
    // most 0.25 x 255: the value alone decides, so the pixel ensemble must get nearly all right.
    const fs::path dir =
        testing::run_experiment(tiny("method: pixels, max_epochs: 20", "binary"), "segmentation_pixels");
    CHECK(metric_value(dir, "feature_channels") == 3);
    CHECK(metric_value(dir, "iou") > 0.95);
    CHECK(metric_value(dir, "dice") > 0.97);
    fs::remove_all(dir);
}

TEST_CASE("the supervised U-Net control trains on the labelled scenes and predicts every class id") {
    const fs::path dir = testing::run_experiment(tiny("method: unet, max_epochs: 3", "classes", ", out_channels: 11"),
                                                 "segmentation_unet");
    CHECK(testing::samples_of(dir).shape() == shape_t{6, 1, 16, 16});
    CHECK(metric_value(dir, "feature_channels") == 0);
    const double auroc = metric_value(dir, "uncertainty_auroc");
    CHECK((std::isnan(auroc) || (auroc >= 0 && auroc <= 1)));
    fs::remove_all(dir);
}

TEST_CASE("segmentation refuses data without label maps and a test set smaller than the count") {
    std::string no_maps = tiny("method: pixels");
    no_maps.replace(no_maps.find("data: {"), no_maps.find('\n', no_maps.find("data: {")) - no_maps.find("data: {"),
                    "data: {type: fashion_mnist, split: test, limit: 8}");
    CHECK(testing::experiment_error(no_maps).find("the run's data gives no map [N, 1, H, W] paired with each image") !=
          std::string::npos);
    std::string small = tiny("method: pixels");
    small.replace(small.find("split: test, count: 6"), 21, "split: test, count: 4");
    CHECK(testing::experiment_error(small).find("task.test holds 4 scenes, fewer than the 6 asked for") !=
          std::string::npos);
}
