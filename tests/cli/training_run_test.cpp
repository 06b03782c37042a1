// SPDX-License-Identifier: Apache-2.0
// Training through `difflab run` on a tiny configuration: resume, NaN, and `difflab sample`.
#include <difflab/io/image_io.h>
#include <difflab/io/safetensors.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cli_runner.h"

using namespace cli_test;

namespace {

// An MLP on two moons under the DDPM process: seconds per run, yet every part of training.
const char* experiment = R"(name: tiny
seed: 4
data: {type: toy2d, kind: moons, size: 256}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: mlp, hidden: 32, layers: 2}
task: {type: generation}
train: {steps: 6, batch_size: 16, lr: 1.0e-3, ema: 0.9, checkpoint_every: 3, log_every: 1}
sample: {sampler: {type: ddim, steps: 5}, count: 8, batch_size: 4}
)";

// A U-Net small enough for seconds per run, on the Fashion-MNIST test split.
const char* image_experiment = R"(name: images
seed: 1
data: {type: fashion_mnist, split: test}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}
task: {type: generation}
train: {steps: 2, batch_size: 4, checkpoint_every: 2}
sample: {sampler: {type: ddim, steps: 4}, count: 3, batch_size: 2, columns: 3, trajectory: 2, trajectory_columns: 3}
)";

}  // namespace

TEST_CASE("a run stopped and resumed with --resume ends with bitwise the weights of an uninterrupted run") {
    const scratch dir("training_resume");
    dir.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml -q name=straight", "", dir.root).exit_code == 0);
    REQUIRE(run("run tiny.yaml -q name=split train.steps=4", "", dir.root).exit_code == 0);
    const result resumed = run("run tiny.yaml -q name=split --resume", "", dir.root);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    const fs::path straight = dir.root / "runs/straight/checkpoints", split = dir.root / "runs/split/checkpoints";
    CHECK(read_file(split / "latest") == "step_6\n");
    CHECK(same_tensors(straight / "step_6.safetensors", split / "step_6.safetensors"));
    CHECK(same_tensors(straight / "step_6.state.safetensors", split / "step_6.state.safetensors"));
    // log.jsonl of the resumed run has each step once.
    const std::string log = read_file(dir.root / "runs/split/log.jsonl");
    CHECK(log.find("{\"step\":4,") != std::string::npos);
    CHECK(log.find("{\"step\":4,", log.find("{\"step\":4,") + 1) == std::string::npos);
    CHECK(read_file(dir.root / "runs/split/samples/grid.png").empty());  // points: no image grid
    CHECK_FALSE(read_file(dir.root / "runs/split/samples/samples.safetensors").empty());

    // Resuming with another experiment is refused.
    const result changed = run("run tiny.yaml -q name=split --resume train.lr=0.5", "", dir.root);
    CHECK(changed.exit_code == 2);
    CHECK(changed.err.find("--resume: the experiment differs from this run's configuration") != std::string::npos);
}

TEST_CASE("a NaN loss stops the run with exit 1, naming the step, and keeps the last good checkpoint") {
    const scratch dir("training_nan");
    dir.write("tiny.yaml", experiment);
    const result r = run("run tiny.yaml -q train.lr=1.0e30 train.grad_clip=0 train.checkpoint_every=1", "", dir.root);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("error: train: the loss is ") != std::string::npos);
    CHECK(r.err.find("lower train.lr or set train.grad_clip") != std::string::npos);
    std::string latest = read_file(dir.root / "runs/tiny/checkpoints/latest");
    CHECK(latest.rfind("step_", 0) == 0);
    latest.pop_back();  // the newline
    CHECK_NOTHROW(difflab::read_safetensors(dir.root / "runs/tiny/checkpoints" / (latest + ".safetensors")));
}

TEST_CASE("difflab sample draws from a trained run with another sampler") {
    const scratch dir("training_sample");
    dir.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml -q", "", dir.root).exit_code == 0);
    const result r = run("sample runs/tiny -q sample.sampler.type=dpm_solver_pp sample.sampler.steps=4 sample.count=6",
                         "", dir.root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const fs::path out = dir.root / "runs/tiny/samples/dpm_solver_pp-4";
    const auto samples = difflab::read_safetensors(out / "samples.safetensors");
    REQUIRE(samples.find("samples") != nullptr);
    CHECK(samples.find("samples")->shape == difflab::shape_t{6, 2});
    CHECK(read_file(out / "config.yaml").find("type: dpm_solver_pp") != std::string::npos);
    CHECK(read_file(out / "report.md").find("6 samples with sampler `dpm_solver_pp`") != std::string::npos);

    const result missing = run("sample runs/nothing -q", "", dir.root);
    CHECK(missing.exit_code == 2);
    CHECK(missing.err ==
          "runs/nothing: error: not a run directory (no config.yaml)\n    give the directory "
          "`difflab run` wrote, e.g. runs/NAME\n");
}

TEST_CASE("class-conditional training and guided sampling: two evaluations per step, classes cycling") {
    const scratch dir("training_guided");
    dir.write("tiny.yaml", experiment);
    const result r =
        run("run tiny.yaml -q +network.num_classes=2 'task={type: generation, class_conditional: true, num_classes: 2, "
            "label_dropout: 0.2, guidance: {scale: 2.0}}'",
            "", dir.root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const std::string report = read_file(dir.root / "runs/tiny/report.md");
    // DDIM with 5 steps, each evaluating the conditional and the unconditional model.
    CHECK(report.find("8 samples with sampler `ddim` (10 network evaluations per batch") != std::string::npos);
    CHECK(report.find("classes cycling 0..1, classifier-free guidance scale 2") != std::string::npos);
}

// A noise-aware classifier of the image experiment's process, trained for a few steps.
const char* noisy_classifier_experiment = R"(name: noisy
seed: 2
data: {type: fashion_mnist, split: train, limit: 64}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: classifier, time_conditioned: true, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}
task: {type: classifier_training, noisy: true}
train: {steps: 3, batch_size: 8, ema: 0}
)";

TEST_CASE("classifier guidance: scale 0 is the unguided model bit for bit, scale 4 moves every sample") {
    const scratch dir("training_classifier_guidance");
    dir.write("images.yaml", image_experiment);
    dir.write("noisy.yaml", noisy_classifier_experiment);
    const result trained = run("run noisy.yaml -q --threads 1", "", dir.root);
    REQUIRE_MESSAGE(trained.exit_code == 0, trained.err);
    const std::string report = read_file(dir.root / "runs/noisy/report.md");
    CHECK(report.find("A noise-aware classifier") != std::string::npos);
    CHECK(report.find("| 0.2575 |") != std::string::npos);  // t_min + 0.25 (t_max - t_min), t_min = 0.01

    REQUIRE(run("run images.yaml -q --threads 1", "", dir.root).exit_code == 0);
    const std::string classifier = " task.classifier=runs/noisy/classifier.safetensors";
    const result none = run("run images.yaml -q --threads 1 name=s0 task.guidance.scale=0" + classifier, "", dir.root);
    REQUIRE_MESSAGE(none.exit_code == 0, none.err);
    const result strong =
        run("run images.yaml -q --threads 1 name=s4 task.guidance.scale=4" + classifier, "", dir.root);
    REQUIRE_MESSAGE(strong.exit_code == 0, strong.err);
    CHECK(read_file(dir.root / "runs/s4/report.md").find("classes cycling 0..9, classifier guidance scale 4") !=
          std::string::npos);
    const auto samples = [&](const std::string& name) {
        return difflab::read_safetensors(dir.root / "runs" / name / "samples/samples.safetensors").tensors.front().data;
    };
    CHECK(samples("s0") == samples("images"));
    CHECK(samples("s4") != samples("images"));

    const result both = run(
        "run images.yaml -q name=both +network.num_classes=10 task.class_conditional=true" + classifier, "", dir.root);
    CHECK(both.exit_code == 2);
    CHECK(both.err.find("remove `classifier` or set class_conditional: false") != std::string::npos);
    const result missing = run("run images.yaml -q name=missing task.classifier=runs/none.safetensors", "", dir.root);
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("runs/none.safetensors: error: network file not found; train one with") !=
          std::string::npos);
    CHECK(!fs::exists(dir.root / "runs/missing/checkpoints"));  // refused before training
}

TEST_CASE("an image run writes a denoising-trajectory strip that ends with the samples of the grid") {
    const scratch dir("training_trajectory");
    dir.write("images.yaml", image_experiment);
    REQUIRE(run("run images.yaml -q", "", dir.root).exit_code == 0);
    const result r = run("sample runs/images -q sample.sampler.type=ddpm sample.sampler.steps=6", "", dir.root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const fs::path out = dir.root / "runs/images/samples/ddpm-6";
    // Two samples, each a row of x_t and a row of estimates; 3 of the 6 evaluations and the sample across.
    const difflab::image strip = difflab::read_png(out / "trajectory.png"), grid = difflab::read_png(out / "grid.png");
    CHECK(strip.width == 4 * 30 + 2);
    CHECK(strip.height == 4 * 30 + 2);
    // The last cell of each sample's rows is that sample in grid.png.
    const auto cell = [](const difflab::image& img, int row, int column) {
        std::vector<std::uint8_t> pixels;
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x)
                pixels.push_back(
                    img.pixels[static_cast<std::size_t>((2 + 30 * row + y) * img.width + 2 + 30 * column + x)]);
        return pixels;
    };
    CHECK(cell(strip, 0, 3) == cell(grid, 0, 0));
    CHECK(cell(strip, 1, 3) == cell(grid, 0, 0));
    CHECK(cell(strip, 3, 3) == cell(grid, 0, 1));
    CHECK(cell(strip, 0, 0) != cell(strip, 0, 3));  // noise at the start
    // The report beside the samples links them relative to itself.
    CHECK(read_file(out / "report.md").find("![trajectory](../../samples/ddpm-6/trajectory.png)") != std::string::npos);
}

TEST_CASE("a U-Net with dropout resumed with --resume draws the masks of an uninterrupted run") {
    const scratch dir("training_resume_dropout");
    dir.write("images.yaml", image_experiment);
    const std::string common = " -q +network.dropout=0.5 train.steps=4 sample.count=1 sample.trajectory=0";
    REQUIRE(run("run images.yaml name=straight" + common, "", dir.root).exit_code == 0);
    REQUIRE(run("run images.yaml name=split" + common + " train.steps=2", "", dir.root).exit_code == 0);
    const result resumed = run("run images.yaml name=split --resume" + common, "", dir.root);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(same_tensors(dir.root / "runs/straight/checkpoints/step_4.safetensors",
                       dir.root / "runs/split/checkpoints/step_4.safetensors"));
    // Without dropout the weights differ: the masks matter.
    REQUIRE(
        run("run images.yaml name=plain -q train.steps=4 sample.count=1 sample.trajectory=0", "", dir.root).exit_code ==
        0);
    CHECK_FALSE(same_tensors(dir.root / "runs/straight/checkpoints/step_4.safetensors",
                             dir.root / "runs/plain/checkpoints/step_4.safetensors"));
}

TEST_CASE("mixed precision: bf16 training keeps f32 weights, bf16 sampling lands beside fp32's and close to it") {
    const scratch dir("training_bf16");
    dir.write("images.yaml", image_experiment);
    const std::string common = " -q sample.trajectory=0";
    REQUIRE(run("run images.yaml name=fp32" + common, "", dir.root).exit_code == 0);
    const result trained = run("run images.yaml name=bf16 train.precision=bf16" + common, "", dir.root);
    REQUIRE_MESSAGE(trained.exit_code == 0, trained.err);
    const fs::path fp32_weights = dir.root / "runs/fp32/checkpoints/step_2.safetensors",
                   bf16_weights = dir.root / "runs/bf16/checkpoints/step_2.safetensors";
    for (const auto& entry : difflab::read_safetensors(bf16_weights).tensors) CHECK(entry.dtype == "F32");
    CHECK_FALSE(same_tensors(fp32_weights, bf16_weights));  // the gradients were computed in bf16

    const result bf16 = run("sample runs/fp32 -q sample.precision=bf16", "", dir.root);
    REQUIRE_MESSAGE(bf16.exit_code == 0, bf16.err);
    REQUIRE(run("sample runs/fp32 -q", "", dir.root).exit_code == 0);
    const fs::path low = dir.root / "runs/fp32/samples/ddim-4-bf16", full = dir.root / "runs/fp32/samples/ddim-4";
    CHECK(read_file(low / "config.yaml").find("precision: \"bf16\"") != std::string::npos);
    const auto samples = [](const fs::path& d) {
        return difflab::to_tensor(*difflab::read_safetensors(d / "samples.safetensors").find("samples")).to_vector();
    };
    const std::vector<float> a = samples(low), b = samples(full);
    REQUIRE(a.size() == b.size());
    double largest = 0;
    for (std::size_t i = 0; i < a.size(); ++i) largest = std::max(largest, static_cast<double>(std::abs(a[i] - b[i])));
    CHECK(largest > 0);     // rounded: bf16 did run
    CHECK(largest < 0.05);  // on data in [-1, 1]: the same samples up to bf16's rounding

    const result wrong = run("sample runs/fp32 -q sample.precision=fp16", "", dir.root);
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.err.find("sample.precision") != std::string::npos);
}
