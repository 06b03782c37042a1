// SPDX-License-Identifier: Apache-2.0
// The segmentation_ensemble task on tiny scenes: its values recomputed by hand from its samples.
#include <difflab/diffusion/dataset.h>
#include <difflab/testing/task_testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

const std::string scenes = "type: fashion_scenes, canvas: 16, min_size: 6, max_size: 10, example: mask";

std::string tiny(const std::string& count) {
    return "name: tiny\nseed: 3\ndata: {" + scenes + ", split: train, count: 8}\n" +
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4, "
           "extra_in_channels: 1}\n"
           "train: {steps: 2, batch_size: 4, checkpoint_every: 2}\n"
           "sample: {sampler: {type: ddim, steps: 3}, count: " +
           count + ", batch_size: 4, columns: 2}\n" + "task: {type: segmentation_ensemble, sizes: [1, 3], test: {" +
           scenes + ", split: test, count: 4, seed: 3}}\n";
}

double metric_value(const fs::path& run, const std::string& name) {
    const std::optional<double> value = testing::metric_of(run, name);
    REQUIRE_MESSAGE(value.has_value(), "no metric " << name);
    return *value;
}

/// Dice of binary masks, as the metric defines it: both empty counts 1.
double dice(const std::vector<float>& a, const std::vector<float>& b) {
    double both = 0, sa = 0, sb = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        both += a[i] * b[i];
        sa += a[i];
        sb += b[i];
    }
    return sa + sb == 0 ? 1.0 : 2 * both / (sa + sb);
}

}  // namespace

TEST_CASE("segmentation_ensemble: Dice of the first n members' mean > 0.5 per scene, from its own samples") {
    const fs::path dir = testing::run_experiment(tiny("6"), "segmentation_ensemble");
    const std::vector<float> samples = testing::samples_of(dir).to_vector();
    REQUIRE(samples.size() == 6 * 256);
    const auto test = testing::make<dataset>("{" + scenes + ", split: test, count: 4, seed: 3}");
    const std::vector<float> truth = test->get({0, 1}).x.to_vector();
    double dice1 = 0, dice3 = 0;
    for (int s = 0; s < 2; ++s) {
        std::vector<float> one(256), three(256), mask(truth.begin() + s * 256, truth.begin() + (s + 1) * 256);
        for (int p = 0; p < 256; ++p) {
            const float a = samples[(s * 3) * 256 + p], b = samples[(s * 3 + 1) * 256 + p],
                        c = samples[(s * 3 + 2) * 256 + p];
            one[p] = a > 0.5f;
            three[p] = (a + b + c) / 3 > 0.5f;
        }
        dice1 += dice(one, mask) / 2;
        dice3 += dice(three, mask) / 2;
    }
    CHECK(metric_value(dir, "dice_n1") == doctest::Approx(dice1).epsilon(1e-5));
    CHECK(metric_value(dir, "dice_n3") == doctest::Approx(dice3).epsilon(1e-5));
    CHECK(!testing::metric_of(dir, "uncertainty_auroc_n1").has_value());
    const double auroc = metric_value(dir, "uncertainty_auroc_n3");
    CHECK((std::isnan(auroc) || (auroc >= 0 && auroc <= 1)));
    CHECK(fs::exists(dir / "samples/segmentation_ensemble.png"));
    fs::remove_all(dir);
}

TEST_CASE("segmentation_ensemble refuses a sample count that is no whole number of ensembles") {
    CHECK(testing::experiment_error(tiny("7")).find("sample.count 7 is not a whole number of ensembles of 3") !=
          std::string::npos);
}
