// SPDX-License-Identifier: Apache-2.0
// Tests of psnr and ssim against scikit-image (tests/fixtures/skimage) and by hand.
#include "image_quality_metrics.h"

#include <difflab/base/error.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// tests/fixtures/skimage/metrics.safetensors, written by tools/metrics_reference.py.
const safetensors_file& fixture() {
    static const safetensors_file file =
        read_safetensors(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/skimage/metrics.safetensors");
    return file;
}

tensor fixture_tensor(const std::string& name) {
    const safetensors_entry* e = fixture().find(name);
    REQUIRE(e != nullptr);
    return to_tensor(*e);
}

std::vector<double> fixture_doubles(const std::string& name) {
    const safetensors_entry* e = fixture().find(name);
    REQUIRE(e != nullptr);
    REQUIRE(e->dtype == "F64");
    std::vector<double> out(e->data.size() / sizeof(double));
    std::memcpy(out.data(), e->data.data(), e->data.size());
    return out;
}

double mean_of(const std::vector<double>& v) {
    double total = 0;
    for (double x : v) total += x;
    return total / static_cast<double>(v.size());
}

metric_inputs pair(const tensor& samples, const tensor& reference) {
    metric_inputs in;
    in.samples = samples;
    in.reference = reference;
    return in;
}

}  // namespace

// skimage's values for a blurred, a brightness-shifted and a noisier copy of smooth noisy
// patterns, 28 x 28 gray and 32 x 32 RGB: per image and the mean the metric reports.
TEST_CASE("psnr and ssim match scikit-image per image and on average") {
    auto psnr = testing::build<psnr_metric>();
    auto ssim = testing::build<ssim_metric>();
    for (const std::string group : {"gray", "color"}) {
        CAPTURE(group);
        const tensor samples = fixture_tensor(group + "/samples"), reference = fixture_tensor(group + "/reference");
        const std::vector<double> want_psnr = fixture_doubles(group + "/psnr");
        const std::vector<double> want_ssim = fixture_doubles(group + "/ssim");
        const std::vector<double> got_psnr = psnr.per_image(samples, reference);
        const std::vector<double> got_ssim = ssim.per_image(samples, reference);
        REQUIRE(got_psnr.size() == want_psnr.size());
        REQUIRE(got_ssim.size() == want_ssim.size());
        double worst_psnr = 0, worst_ssim = 0;
        for (std::size_t i = 0; i < want_psnr.size(); ++i) {
            worst_psnr = std::max(worst_psnr, std::abs(got_psnr[i] - want_psnr[i]));
            worst_ssim = std::max(worst_ssim, std::abs(got_ssim[i] - want_ssim[i]));
        }
        MESSAGE(group, ": worst |psnr - skimage| ", worst_psnr, " dB, worst |ssim - skimage| ", worst_ssim);
        CHECK(worst_psnr < 1e-4);
        CHECK(worst_ssim < 1e-4);
        const metric_values p = psnr.compute(pair(samples, reference));
        const metric_values s = ssim.compute(pair(samples, reference));
        REQUIRE(p.size() == 1);
        REQUIRE(s.size() == 1);
        CHECK(p[0].first == "psnr");
        CHECK(s[0].first == "ssim");
        CHECK(std::abs(p[0].second - mean_of(want_psnr)) < 1e-4);
        CHECK(std::abs(s[0].second - mean_of(want_ssim)) < 1e-4);
        // Through the metric interface (best-of-k selections rank samples by these).
        CHECK(psnr.per_example(pair(samples, reference)) == got_psnr);
        CHECK(ssim.per_example(pair(samples, reference)) == got_ssim);
    }
}

TEST_CASE("psnr by hand: a constant offset, the data range, and the cap for identical images") {
    const tensor a = tensor::full({2, 1, 4, 4}, 0.25f);
    // MSE 0.01 everywhere: 10 log10(4 / 0.01) = 26.0206 dB; data_range 1: 10 log10(100) = 20 dB.
    const tensor b = tensor::full({2, 1, 4, 4}, 0.35f);
    CHECK(testing::build<psnr_metric>().compute(pair(b, a))[0].second ==
          doctest::Approx(10 * std::log10(400.0)).epsilon(1e-6));
    CHECK(testing::build<psnr_metric>("{data_range: 1.0}").compute(pair(b, a))[0].second ==
          doctest::Approx(20.0).epsilon(1e-6));
    // Identical rows are capped at max_db; the mean is over images: (100 + 26.02) / 2.
    const tensor half = concat({a.slice(0, 0, 1), b.slice(0, 1, 2)}, 0);
    CHECK(testing::build<psnr_metric>().compute(pair(half, a))[0].second ==
          doctest::Approx((100 + 10 * std::log10(400.0)) / 2).epsilon(1e-6));
    CHECK(testing::build<psnr_metric>("{max_db: 60}").compute(pair(a, a))[0].second == 60.0);
    CHECK_THROWS_AS(testing::build<psnr_metric>("{max_db: 0}"), config_error);
}

TEST_CASE("ssim by hand: identical images give 1, and a constant shift only the luminance term") {
    auto ssim = testing::build<ssim_metric>();
    const tensor x = randn({2, 3, 16, 12}, 4, random_purpose("test")) * 0.3f;
    CHECK(ssim.compute(pair(x, x))[0].second == doctest::Approx(1.0).epsilon(1e-12));
    // Constant images c and c + d: means c and c + d, no variance, so
    // SSIM = (2 c (c + d) + C1) / (c^2 + (c + d)^2 + C1) exactly (C1 = (0.01 * 2)^2).
    const double c = 0.2f, d = static_cast<double>(0.5f) - c, c1 = 0.02 * 0.02;  // the f32 values
    const double want = (2 * c * (c + d) + c1) / (c * c + (c + d) * (c + d) + c1);
    const tensor flat = tensor::full({1, 1, 11, 11}, static_cast<float>(c));
    const tensor shifted = tensor::full({1, 1, 11, 11}, 0.5f);
    CHECK(ssim.compute(pair(shifted, flat))[0].second == doctest::Approx(want).epsilon(1e-6));
}

TEST_CASE("psnr and ssim refuse missing, unpaired and too small inputs with one-line errors") {
    auto psnr = testing::build<psnr_metric>();
    auto ssim = testing::build<ssim_metric>();
    const tensor a = tensor::zeros({64, 1, 28, 28}), b = tensor::zeros({32, 1, 28, 28});
    CHECK_THROWS_WITH_AS(psnr.compute(pair(a, b)),
                         "error: psnr: samples [64, 1, 28, 28] and reference [32, 1, 28, 28] must have the same shape; "
                         "psnr pairs them row by row",
                         error);
    CHECK_THROWS_WITH_AS(psnr.compute(pair(tensor(), b)),
                         "error: psnr: no samples given; samples must hold the predicted images [N, ...] in [-1, 1]",
                         error);
    CHECK_THROWS_AS(ssim.compute(pair(a, tensor())), error);
    CHECK_THROWS_WITH_AS(ssim.compute(pair(tensor::zeros({2, 1, 10, 28}), tensor::zeros({2, 1, 10, 28}))),
                         "error: ssim: samples [2, 1, 10, 28] must be images [N, C, H, W] with H and W at least 11 "
                         "(the Gaussian window of sigma 1.5)",
                         error);
    CHECK_THROWS_AS(ssim.compute(pair(tensor::zeros({2, 784}), tensor::zeros({2, 784}))), error);
}
