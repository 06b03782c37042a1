// SPDX-License-Identifier: Apache-2.0
// The restoration task on a tiny U-Net: what DDRM and the pseudo-inverse give back, its files,
// and its errors.
#include <difflab/base/error.h>
#include <difflab/io/safetensors.h>
#include <difflab/plugin/config_node.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/experiment.h>
#include <difflab/run/task.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// A U-Net trained for two steps on Fashion-MNIST test images (it knows nothing), restoring with
/// DDRM in 4 steps; `task` and `sampler` complete the experiment.
std::string tiny(const std::string& task, const std::string& sampler = "{type: ddrm, steps: 4}") {
    return "name: tiny\nseed: 3\ndata: {type: fashion_mnist, split: test, limit: 16}\n"
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}\n"
           "train: {steps: 2, batch_size: 4, checkpoint_every: 2}\n"
           "sample: {sampler: " +
           sampler +
           ", count: 6, batch_size: 4, columns: 3, trajectory: 0}\n"
           "evaluate: {count: 6, metrics: [psnr]}\n"
           "task: " +
           task + "\n";
}

fs::path run(const std::string& yaml, const std::string& name) {
    const registry& components = testing::build_plugins();
    const config_node resolved = resolve_experiment(parse_yaml(yaml, "tiny.yaml"), components);
    const fs::path dir = fs::temp_directory_path() / ("difflab_restoration_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    run_context ctx(components, resolved, dir, 3);
    ctx.build<task>("task")->run(ctx);
    return dir;
}

std::string error_of(const std::string& yaml) {
    try {
        fs::remove_all(run(yaml, "bad"));
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no error";
}

double metric_value(const fs::path& dir, const std::string& name) {
    for (const auto& [key, value] : read_metrics_json(dir / "metrics.json").values)
        if (key == name) return value;
    FAIL("no metric " << name);
    return 0;
}

tensor samples_of(const fs::path& dir) {
    return to_tensor(read_safetensors(dir / "samples/samples.safetensors").tensors.front());
}

}  // namespace

TEST_CASE("noiseless DDRM explains its measurement exactly, even with an untrained network") {
    const fs::path dir = run(tiny("{type: restoration, measurement: {type: block_average, factor: 2}}"), "ddrm");
    CHECK(metric_value(dir, "consistency") < 1e-5);
    CHECK(fs::exists(dir / "samples/restoration.png"));
    fs::remove_all(dir);

    // H = I: DDRM returns y, the image itself.
    const fs::path identity = run(tiny("{type: restoration, measurement: {type: identity}}"), "identity");
    CHECK(metric_value(identity, "psnr") > 80);
    fs::remove_all(identity);
}

TEST_CASE("the pseudo-inverse restores the same noisy measurement without a network") {
    const std::string h = "measurement: {type: block_average, factor: 2, noise_std: 0.2}";
    const fs::path inverse = run(tiny("{type: restoration, method: pseudo_inverse, " + h + "}"), "inverse");
    const fs::path ddrm = run(tiny("{type: restoration, " + h + "}"), "ddrm_noisy");
    CHECK(metric_value(inverse, "consistency") < 1e-5);  // H H^+ = I for block averages
    // DDRM with sigma_y > 0 does not reproduce the noise of y: its measurement's residual has
    // about the noise's size (0.2).
    CHECK(metric_value(ddrm, "consistency") > 0.05);
    // Block means repeated over their blocks: each 2 x 2 block of the pseudo-inverse is constant.
    const std::vector<float> x = samples_of(inverse).contiguous().to_vector();
    CHECK(x[0] == x[1]);
    CHECK(x[0] == x[28]);
    CHECK(x[0] == x[29]);
    fs::remove_all(inverse);
    fs::remove_all(ddrm);
}

TEST_CASE("the restoration task refuses what it cannot do, saying how to fix it") {
    CHECK(error_of(tiny("{type: restoration}")).find("needs `measurement`") != std::string::npos);
    CHECK(error_of(tiny("{type: restoration, measurement: {type: identity}}", "{type: ddim, steps: 4}"))
              .find("set sample.sampler.type: ddrm") != std::string::npos);
    CHECK(error_of(tiny("{type: restoration, measurement: {type: block_average, factor: 5}}")).find("block_average") !=
          std::string::npos);
}
