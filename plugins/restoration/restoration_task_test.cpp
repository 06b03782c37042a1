// SPDX-License-Identifier: Apache-2.0
// The restoration task on a tiny U-Net: what DDRM and the pseudo-inverse give back, its files,
// and its errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "tiny_restoration.h"

using namespace difflab;
namespace fs = std::filesystem;
using difflab::plugins::tiny_restoration::metric_value;

namespace {

std::string tiny(const std::string& task, const std::string& sampler = "{type: ddrm, steps: 4}") {
    return plugins::tiny_restoration::experiment(task, sampler);
}

fs::path run(const std::string& yaml, const std::string& name) {
    return testing::run_experiment(yaml, "restoration_" + name);
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
    const std::vector<float> x = testing::samples_of(inverse).contiguous().to_vector();
    CHECK(x[0] == x[1]);
    CHECK(x[0] == x[28]);
    CHECK(x[0] == x[29]);
    fs::remove_all(inverse);
    fs::remove_all(ddrm);
}

TEST_CASE("the restoration task refuses what it cannot do, saying how to fix it") {
    CHECK(testing::experiment_error(tiny("{type: restoration}")).find("needs `measurement`") != std::string::npos);
    CHECK(
        testing::experiment_error(tiny("{type: restoration, measurement: {type: identity}}", "{type: ddim, steps: 4}"))
            .find("set sample.sampler.type: ddrm") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: restoration, measurement: {type: block_average, factor: 5}}"))
              .find("block_average") != std::string::npos);
}
