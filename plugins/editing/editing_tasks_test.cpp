// SPDX-License-Identifier: Apache-2.0
// The inpainting and sdedit tasks on a tiny U-Net: what they keep, what they spend, their files
// and their errors.
#include <difflab/diffusion/sampler.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/testing/task_testing.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "inpainting_masks.h"

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// A U-Net trained for two steps on Fashion-MNIST test images (it knows nothing), sampled with
/// DDIM in 4 steps; `task` completes the experiment.
std::string tiny(const std::string& task, const std::string& extra = "") {
    return "name: tiny\nseed: 3\ndata: {type: fashion_mnist, split: test, limit: 16}\n"
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}\n"
           "train: {steps: 2, batch_size: 4, checkpoint_every: 2}\n"
           "sample: {sampler: {type: ddim, steps: 4}, count: 6, batch_size: 4, columns: 3, clip_denoised: true, "
           "trajectory: 0}\n"
           "task: " +
           task + "\n" + extra;
}

fs::path run(const std::string& yaml, const std::string& name) {
    return testing::run_experiment(yaml, "editing_" + name);
}

/// The first n test images.
tensor sources(std::int64_t n) {
    const auto data = testing::make<dataset>("{type: fashion_mnist, split: test, limit: 16}");
    std::vector<std::int64_t> indices(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) indices[static_cast<std::size_t>(i)] = i;
    return data->get(indices).x;
}

/// The largest |a - b| where `mask` is 1 (known) or 0 (missing).
float largest_difference(const tensor& a, const tensor& b, const tensor& mask, float where) {
    const std::vector<float> x = a.contiguous().to_vector(), y = b.contiguous().to_vector(),
                             m = mask.contiguous().to_vector();
    float largest = 0;
    for (std::size_t i = 0; i < x.size(); ++i)
        if (m[i] == where) largest = std::max(largest, std::abs(x[i] - y[i]));
    return largest;
}

}  // namespace

TEST_CASE("inpainting keeps the known pixels and fills the missing ones, RePaint spends its path's evaluations") {
    const fs::path plain = run(tiny("{type: inpainting, mask: left_half}",
                                    "evaluate: {count: 6, metrics: [psnr, feature_distance, classifier_accuracy]}\n"),
                               "inpainting");
    const tensor out = testing::samples_of(plain), truth = sources(6);
    const tensor masks = plugins::inpainting_masks("left_half", 28, 28, 3, 0, 6);
    // Replaced at every state down to t_min = 0.01, the known half ends within the last step's
    // noise of the truth; the untrained network's missing half does not.
    CHECK(largest_difference(out, truth, masks, 1.0f) < 0.1f);
    CHECK(largest_difference(out, truth, masks, 0.0f) > 0.5f);
    const std::string report = testing::read_text(plain / "report.md");
    CHECK(report.find("(4 network evaluations per batch") != std::string::npos);
    CHECK(report.find("mask `left_half`, replacement") != std::string::npos);
    CHECK(fs::exists(plain / "samples/inpainting.png"));
    const recorded_metrics metrics = read_metrics_json(plain / "metrics.json");
    REQUIRE(metrics.values.size() == 4);
    CHECK(metrics.values[0].first == "psnr");
    CHECK(metrics.values[3].first == "psnr_missing");
    CHECK(metrics.values[3].second < metrics.values[0].second);  // the known half only raises the PSNR
    fs::remove_all(plain);

    // RePaint over DDIM's 4 times, jumping back 1 time and descending again once per stretch:
    // its path's denoising steps and the last one's landing on clean data, more than DDIM's 4.
    const fs::path repaint =
        run(tiny("{type: inpainting, mask: left_half, method: repaint, jump_length: 1, jump_n_sample: 2}"), "repaint");
    const auto p = testing::make<process>("{type: ddpm, schedule: linear, steps: 100}");
    const std::int64_t evaluations = repaint_path(time_grid(*p, 4, "uniform"), 1, 2).denoise_steps() + 1;
    CHECK(evaluations > 4);
    CHECK(
        testing::read_text(repaint / "report.md").find(fmt::format("({} network evaluations per batch", evaluations)) !=
        std::string::npos);
    CHECK(largest_difference(testing::samples_of(repaint), truth, masks, 1.0f) < 0.1f);
    fs::remove_all(repaint);
}

TEST_CASE("sdedit starts from the noised guide: faithful at small t0, K rounds cost K descents, keep keeps") {
    const auto guide_l2 = [](const fs::path& dir) {
        return read_metrics_json(dir / "metrics.json").values.back().second;
    };
    const std::string evaluate = "evaluate: {count: 6, metrics: [psnr]}\n";
    const fs::path near = run(tiny("{type: sdedit, t0: 0.02}", evaluate), "sdedit_near");
    const fs::path far = run(tiny("{type: sdedit, t0: 1.0}", evaluate), "sdedit_far");
    MESSAGE("guide_l2 at t0 0.02: " << guide_l2(near) << ", at t0 1: " << guide_l2(far));
    CHECK(guide_l2(near) < 0.5 * guide_l2(far));
    CHECK(testing::read_text(near / "report.md").find("from stroke guides (7x7, 4 levels) at t0 = 0.02, 1 round") !=
          std::string::npos);
    CHECK(fs::exists(near / "samples/sdedit.png"));
    fs::remove_all(near);
    fs::remove_all(far);

    const fs::path chained = run(tiny("{type: sdedit, t0: 0.5, rounds: 3, keep: expand}"), "sdedit_chained");
    // DDIM's 4 times from t0 are 3 steps per round, then one evaluation lands on clean data: 3 x 3 + 1.
    CHECK(testing::read_text(chained / "report.md").find("(10 network evaluations per batch") != std::string::npos);
    const tensor masks = plugins::inpainting_masks("expand", 28, 28, 3, 0, 6);
    CHECK(largest_difference(testing::samples_of(chained), sources(6), masks, 1.0f) < 0.1f);
    fs::remove_all(chained);
}

TEST_CASE("the editing tasks refuse what they cannot do, saying how to fix it") {
    CHECK(testing::experiment_error(tiny("{type: sdedit, t0: 0.005}"))
              .find("t0 0.005 is outside (t_min, t_max] = (0.01, 1]") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: inpainting}", "evaluate: {count: 40, metrics: [psnr]}\n"))
              .find("starts from the first 40 images of the data, which has only 16") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: inpainting, mask: circle}"))
              .find("must be one of center|left_half|expand") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: sdedit, guide_size: 5}")).find("multiples of the guide size 5") !=
          std::string::npos);
}
