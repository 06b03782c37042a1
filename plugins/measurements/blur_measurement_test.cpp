// SPDX-License-Identifier: Apache-2.0
// Tests of the 'blur' measurement.
#include "blur_measurement.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "measurement_checks.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

// exp(-t^2 / (2 sigma^2)) for t = -r .. r, normalized to sum 1.
std::vector<double> gaussian(double sigma, int radius) {
    std::vector<double> w;
    double total = 0;
    for (int t = -radius; t <= radius; ++t) total += w.emplace_back(std::exp(-0.5 * t * t / (sigma * sigma)));
    for (double& v : w) v /= total;
    return w;
}

}  // namespace

TEST_CASE("blur satisfies the measurement algebra") {
    for (const std::string yaml : {"{sigma: 0.5, size: 3}", "{sigma: 0.5, size: 5, boundary: symmetric}",
                                   "{sigma: 1.0, size: 5, cutoff: 0.1}"}) {
        CAPTURE(yaml);
        checks::check_algebra(*checks::bound<blur_measurement>(yaml, {2, 8, 8}));
    }
    checks::check_algebra(*checks::bound<blur_measurement>("{sigma: 0.6, size: 3}", {1, 6, 10}));
}

TEST_CASE("blur spreads an impulse into the normalized Gaussian kernel") {
    const auto h = checks::bound<blur_measurement>("{sigma: 1.0, size: 5}", {1, 15, 15});
    CHECK(h->measured_shape() == shape_t{1, 15, 15});
    std::vector<float> impulse(225, 0.0f);
    impulse[7 * 15 + 7] = 1.0f;
    const std::vector<float> out = h->apply(tensor::from_vector({1, 1, 15, 15}, impulse)).to_vector();
    const std::vector<double> w = gaussian(1.0, 2);
    for (int r = 0; r < 15; ++r)
        for (int c = 0; c < 15; ++c) {
            const bool inside = std::abs(r - 7) <= 2 && std::abs(c - 7) <= 2;
            const double expected =
                inside ? w[static_cast<std::size_t>(r - 5)] * w[static_cast<std::size_t>(c - 5)] : 0;
            CHECK(out[static_cast<std::size_t>(r * 15 + c)] == doctest::Approx(expected).epsilon(1e-6));
        }
}

TEST_CASE("blur's matrix is the direct zero-padded convolution with every tap, edges included") {
    // DDRM's reference code builds its 1-D blur matrix with the kernel's last tap dropped; a
    // direct convolution of a random image, border pixels included, catches that and any edge slip.
    const int n = 9, radius = 3;
    const auto h = checks::bound<blur_measurement>("{sigma: 1.2, size: 7}", {1, n, n});
    std::vector<float> image(static_cast<std::size_t>(n * n));
    for (std::size_t i = 0; i < image.size(); ++i)
        image[i] = static_cast<float>(std::sin(1.7 * i) + 0.3 * std::cos(0.4 * i * i));
    const std::vector<float> out = h->apply(tensor::from_vector({1, 1, n, n}, image)).to_vector();
    const std::vector<double> w = gaussian(1.2, radius);
    for (int r = 0; r < n; ++r)
        for (int c = 0; c < n; ++c) {
            double direct = 0;
            for (int i = -radius; i <= radius; ++i)
                for (int j = -radius; j <= radius; ++j)
                    if (r + i >= 0 && r + i < n && c + j >= 0 && c + j < n)
                        direct += w[static_cast<std::size_t>(i + radius)] * w[static_cast<std::size_t>(j + radius)] *
                                  image[static_cast<std::size_t>((r + i) * n + c + j)];
            CAPTURE(r);
            CAPTURE(c);
            CHECK(out[static_cast<std::size_t>(r * n + c)] == doctest::Approx(direct).epsilon(1e-5));
        }
}

TEST_CASE("blur keeps a constant away from the border, zero padding darkens the border, mirroring does not") {
    const tensor ones = tensor::ones({1, 1, 12, 12});
    const std::vector<float> zero =
        checks::bound<blur_measurement>("{sigma: 1.5, size: 5}", {1, 12, 12})->apply(ones).to_vector();
    for (int r = 2; r < 10; ++r)
        for (int c = 2; c < 10; ++c)
            CHECK(zero[static_cast<std::size_t>(r * 12 + c)] == doctest::Approx(1.0).epsilon(1e-6));
    const std::vector<double> w = gaussian(1.5, 2);
    CHECK(zero[0] == doctest::Approx((w[2] + w[3] + w[4]) * (w[2] + w[3] + w[4])).epsilon(1e-6));
    const std::vector<float> mirrored =
        checks::bound<blur_measurement>("{sigma: 1.5, size: 5, boundary: symmetric}", {1, 12, 12})
            ->apply(ones)
            .to_vector();
    for (float v : mirrored) CHECK(v == doctest::Approx(1.0).epsilon(1e-6));
}

TEST_CASE("blur's cutoff zeroes small singular values and truncates the operator with them") {
    const auto exact = checks::bound<blur_measurement>("{sigma: 1.0, size: 5}", {1, 8, 8});
    const auto cut = checks::bound<blur_measurement>("{sigma: 1.0, size: 5, cutoff: 0.2}", {1, 8, 8});
    const std::vector<double>& s = exact->singular_values();
    const std::vector<double>& t = cut->singular_values();
    CHECK(s.back() > 0);
    CHECK(t.back() == 0.0);
    CHECK(t.front() == doctest::Approx(s.front()));
    // The truncated operator differs from the blur only in the cut directions.
    const tensor x = checks::random_batch(2, {1, 8, 8}, 4);
    CHECK(testing::relative_error(cut->apply(x), exact->apply(x)) > 1e-4);
    CHECK(testing::relative_error(cut->apply(x), cut->u(checks::scaled(cut->v_transpose(x), t, 64))) < 1e-5);
}

TEST_CASE("blur checks its kernel and its examples") {
    CHECK_THROWS_WITH_AS(checks::bound<blur_measurement>("{size: 4}", {1, 8, 8}),
                         "test.yaml:1:8: error: 'size' is 4, which is out of range; it must be odd", config_error);
    CHECK_THROWS_AS(checks::bound<blur_measurement>("{sigma: 0}", {1, 8, 8}), config_error);
    CHECK_THROWS_AS(checks::bound<blur_measurement>("{boundary: reflect}", {1, 8, 8}), config_error);
    CHECK_THROWS_WITH_AS(checks::bound<blur_measurement>("{}", {64}),
                         "error: measurement 'blur' acts on images [C, H, W], not on examples of shape [64]; use it "
                         "on image data, or mask or identity on points",
                         config_error);
}
