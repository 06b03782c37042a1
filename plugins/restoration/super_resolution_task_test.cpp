// SPDX-License-Identifier: Apache-2.0
// The super_resolution task on a tiny U-Net: each method's outputs, what they keep of y, and the
// errors.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "bicubic_upsampling.h"
#include "tiny_restoration.h"

using namespace difflab;
namespace fs = std::filesystem;
using difflab::plugins::tiny_restoration::metric_value;

namespace {

std::string tiny(const std::string& task, const std::string& sampler = "{type: ddim, steps: 4}",
                 int extra_channels = 0) {
    return plugins::tiny_restoration::experiment(task, sampler, extra_channels);
}

fs::path run(const std::string& yaml, const std::string& name) {
    return testing::run_experiment(yaml, "sr_" + name);
}

const std::string x2 = "measurement: {type: block_average, factor: 2}";

}  // namespace

TEST_CASE("bicubic super-resolution is the bicubic upsampling of the block means, with no network") {
    const fs::path dir = run(tiny("{type: super_resolution, method: bicubic, " + x2 + "}"), "bicubic");
    const auto data = testing::make<dataset>("{type: fashion_mnist, split: test, limit: 16}");
    const tensor x = data->get({0, 1, 2, 3, 4, 5}).x;
    // Block means by hand, then the upsampler.
    const std::vector<float> v = x.contiguous().to_vector();
    std::vector<float> means(6 * 14 * 14);
    for (std::size_t i = 0; i < 6; ++i)
        for (std::size_t r = 0; r < 14; ++r)
            for (std::size_t c = 0; c < 14; ++c) {
                const std::size_t at = i * 784 + 2 * r * 28 + 2 * c;
                means[i * 196 + r * 14 + c] = (v[at] + v[at + 1] + v[at + 28] + v[at + 29]) / 4;
            }
    const std::vector<float> expected =
        plugins::bicubic_upsample(tensor::from_vector({6, 1, 14, 14}, means), 2).to_vector();
    const std::vector<float> got = testing::samples_of(dir).contiguous().to_vector();
    REQUIRE(got.size() == expected.size());
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(double(got[i]) - expected[i]));
    CHECK(worst < 1e-5);
    CHECK(metric_value(dir, "consistency") > 0.001);  // bicubic does not keep the block means exactly
    CHECK(fs::exists(dir / "samples/super_resolution.png"));
    fs::remove_all(dir);
}

TEST_CASE("ILVR keeps the low-pass content that an unconditioned run does not, DDRM keeps it exactly") {
    const fs::path ilvr = run(tiny("{type: super_resolution, method: ilvr, " + x2 + "}"), "ilvr");
    const fs::path free = run(tiny("{type: super_resolution, method: ilvr, range_t: 1.0, " + x2 + "}"), "free");
    const double kept = metric_value(ilvr, "consistency"), unconditioned = metric_value(free, "consistency");
    MESSAGE("consistency: ILVR " << kept << ", no conditioning " << unconditioned);
    CHECK(kept < 0.5 * unconditioned);
    fs::remove_all(ilvr);
    fs::remove_all(free);
    const fs::path ddrm =
        run(tiny("{type: super_resolution, method: ddrm, " + x2 + "}", "{type: ddrm, steps: 4}"), "ddrm");
    CHECK(metric_value(ddrm, "consistency") < 1e-5);
    fs::remove_all(ddrm);
}

TEST_CASE("SR3 and the regression baseline train through the one loop and restore at the data's size") {
    const fs::path sr3 =
        run(tiny("{type: super_resolution, method: sr3, " + x2 + "}", "{type: ddim, steps: 4}", 1), "sr3");
    CHECK(testing::samples_of(sr3).shape() == shape_t{6, 1, 28, 28});
    CHECK(testing::read_text(sr3 / "report.md").find("Trained 2 steps") != std::string::npos);
    CHECK(testing::read_text(sr3 / "report.md").find("(4 network evaluations per batch") != std::string::npos);
    fs::remove_all(sr3);
    const fs::path regression = run(
        tiny("{type: super_resolution, method: regression, " + x2 + "}", "{type: ddim, steps: 4}", 1), "regression");
    CHECK(testing::samples_of(regression).shape() == shape_t{6, 1, 28, 28});
    CHECK(testing::read_text(regression / "report.md").find("the regression network on the bicubic upsampling") !=
          std::string::npos);
    fs::remove_all(regression);
}

TEST_CASE("the super_resolution task refuses what it cannot do, saying how to fix it") {
    CHECK(testing::experiment_error(tiny("{type: super_resolution, method: bicubic, measurement: {type: identity}}"))
              .find("not an image an integer factor k >= 2 smaller than the data's [1, 28, 28]; use a downsampler") !=
          std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: super_resolution, method: ddrm, " + x2 + "}"))
              .find("set sample.sampler.type: ddrm") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: super_resolution, method: ilvr, " + x2 + "}", "{type: ddrm}"))
              .find("does not use a sampler that inverts the measurement") != std::string::npos);
    CHECK(testing::experiment_error(tiny("{type: super_resolution, method: sr3, " + x2 + "}"))
              .find("set extra_in_channels: 1") != std::string::npos);
}
