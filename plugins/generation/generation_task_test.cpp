// SPDX-License-Identifier: Apache-2.0
// Tests of the generation task through the real plugins: samples keyed per sample, not per batch.
#include <difflab/io/safetensors.h>
#include <difflab/run/experiment.h>
#include <difflab/run/task.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// An MLP on two moons, trained 20 steps (well under a second), sampled by ancestral DDPM,
/// whose fresh noise at every step makes the samples depend on how noise is keyed.
std::string moons(const std::string& sample, int seed = 5) {
    return "name: moons\nseed: " + std::to_string(seed) +
           "\n"
           "data: {type: toy2d, kind: moons, size: 256}\n"
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: mlp, hidden: 16, layers: 2}\n"
           "task: {type: generation}\n"
           "train: {steps: 20, batch_size: 32, lr: 1.0e-3, ema: 0, checkpoint_every: 20, log_every: 10}\n"
           "sample: " +
           sample + "\n";
}

/// Runs `yaml` in a fresh directory and returns the samples it wrote.
std::vector<float> samples_of(const std::string& yaml, const std::string& name) {
    const registry& loaded = difflab::testing::build_plugins();
    const config_node resolved = resolve_experiment(parse_yaml(yaml, name + ".yaml"), loaded);
    const fs::path dir = fs::temp_directory_path() / ("difflab_generation_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    run_context ctx(loaded, resolved, dir, static_cast<std::uint64_t>(read_experiment(resolved).seed));
    ctx.build<task>("task")->run(ctx);
    const safetensors_file file = read_safetensors(dir / "samples" / "samples.safetensors");
    const std::vector<float> values = to_tensor(*file.find("samples")).contiguous().to_vector();
    fs::remove_all(dir);
    return values;
}

}  // namespace

TEST_CASE("generation's samples do not depend on the batch size, and more samples extend the fewer") {
    const std::vector<float> whole =
        samples_of(moons("{sampler: {type: ddpm, steps: 8}, count: 6, batch_size: 6}"), "whole");
    const std::vector<float> batched =
        samples_of(moons("{sampler: {type: ddpm, steps: 8}, count: 6, batch_size: 4}"), "batched");
    const std::vector<float> fewer =
        samples_of(moons("{sampler: {type: ddpm, steps: 8}, count: 3, batch_size: 2}"), "fewer");
    REQUIRE(whole.size() == 12);
    CHECK(batched == whole);
    REQUIRE(fewer.size() == 6);
    CHECK(std::vector<float>(whole.begin(), whole.begin() + 6) == fewer);
    // Another seed gives other samples: the comparisons above can fail.
    CHECK(samples_of(moons("{sampler: {type: ddpm, steps: 8}, count: 6, batch_size: 6}", 6), "other") != whole);
}
