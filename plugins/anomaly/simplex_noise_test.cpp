// SPDX-License-Identifier: Apache-2.0
// Simplex noise: the lattice function against python3-noise, keyed draws, unit variance and a
// spectrum concentrated at low frequencies where Gaussian noise is flat.
#include "simplex_noise.h"

#include <difflab/base/error.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "simplex_lattice.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// An F64 tensor of tests/fixtures/noise/simplex.safetensors (tools/simplex_reference.py).
std::vector<double> fixture(const std::string& name) {
    static const safetensors_file file =
        read_safetensors(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/noise/simplex.safetensors");
    const safetensors_entry* e = file.find(name);
    REQUIRE(e != nullptr);
    REQUIRE(e->dtype == "F64");
    std::vector<double> out(e->data.size() / sizeof(double));
    std::memcpy(out.data(), e->data.data(), e->data.size());
    return out;
}

/// The share of an image's power (mean removed) at spatial frequencies below `cutoff` cycles per
/// image, from a direct 2-D DFT of each [size, size] plane, averaged over the planes.
double low_frequency_share(const std::vector<float>& planes, std::int64_t size, double cutoff) {
    const std::int64_t count = static_cast<std::int64_t>(planes.size()) / (size * size);
    const double two_pi = 2 * std::acos(-1.0);
    double low = 0, total = 0;
    for (std::int64_t p = 0; p < count; ++p) {
        const float* x = planes.data() + p * size * size;
        double mean = 0;
        for (std::int64_t i = 0; i < size * size; ++i) mean += x[i] / static_cast<double>(size * size);
        for (std::int64_t u = 0; u < size; ++u)
            for (std::int64_t v = 0; v < size; ++v) {
                if (u == 0 && v == 0) continue;
                double re = 0, im = 0;
                for (std::int64_t r = 0; r < size; ++r)
                    for (std::int64_t c = 0; c < size; ++c) {
                        const double angle = -two_pi * static_cast<double>(u * r + v * c) / static_cast<double>(size);
                        re += (x[r * size + c] - mean) * std::cos(angle);
                        im += (x[r * size + c] - mean) * std::sin(angle);
                    }
                const double fu = static_cast<double>(std::min(u, size - u)),
                             fv = static_cast<double>(std::min(v, size - v));
                const double power = re * re + im * im;
                total += power;
                if (std::hypot(fu, fv) < cutoff) low += power;
            }
    }
    return low / total;
}

}  // namespace

TEST_CASE("simplex_noise3 reproduces python3-noise's simplex noise given its permutation table") {
    const std::vector<double> table = fixture("permutation"), points = fixture("points"), values = fixture("values");
    permutation_table theirs{};
    for (std::size_t i = 0; i < 256; ++i) theirs[i] = static_cast<std::uint8_t>(table[i]);
    REQUIRE(points.size() == 3 * values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        CAPTURE(i);
        CHECK(simplex_noise3(points[3 * i], points[3 * i + 1], points[3 * i + 2], theirs) ==
              doctest::Approx(values[i]).epsilon(1e-12));
    }
    // The package's table differs from Perlin's in one entry (index 180: 9 for 19).
    std::size_t differing = 0;
    for (std::size_t i = 0; i < 256; ++i) differing += theirs[i] != perlin_permutation()[i];
    CHECK(differing == 1);
    CHECK(simplex_noise3(3, 4, 5) == 0.0);  // zero at lattice points
}

TEST_CASE("simplex draws depend only on their key, and have unit variance when normalized") {
    const simplex_noise s = testing::build<simplex_noise>("{octaves: 4, persistence: 0.7, frequency: 16}");
    const std::uint64_t purpose = random_purpose("test");
    const std::vector<float> batch = s.draw({6, 2, 20, 20}, 9, purpose, 0, 3).to_vector();
    const std::vector<float> alone = s.draw({1, 2, 20, 20}, 9, purpose, 4, 3).to_vector();
    CHECK(std::equal(alone.begin(), alone.end(), batch.begin() + 4 * 800));
    CHECK(s.draw({6, 2, 20, 20}, 9, purpose, 0, 4).to_vector() != batch);   // another step, another draw
    CHECK(s.draw({6, 2, 20, 20}, 10, purpose, 0, 3).to_vector() != batch);  // another seed

    const std::vector<float> many = s.draw({200, 1, 16, 16}, 1, purpose, 0, 0).to_vector();
    double mean = 0, square = 0;
    for (float v : many) mean += v, square += static_cast<double>(v) * v;
    mean /= static_cast<double>(many.size());
    square /= static_cast<double>(many.size());
    MESSAGE("normalized simplex noise: mean " << mean << ", variance " << square - mean * mean);
    CHECK(std::abs(mean) < 0.1);
    CHECK(square - mean * mean == doctest::Approx(1.0).epsilon(0.1));
    // AnoDDPM's reference does not normalize; normalizing divides by the octave sum's spread
    // (0.68 for its 6 octaves at persistence 0.8).
    const simplex_noise raw = testing::build<simplex_noise>("{normalize: false}");
    const simplex_noise reference = testing::build<simplex_noise>("{}");
    MESSAGE("AnoDDPM's octave sum: standard deviation " << reference.octave_sum_std());
    const std::vector<float> unscaled = raw.draw({1, 1, 8, 8}, 1, purpose, 0, 0).to_vector();
    const std::vector<float> scaled = reference.draw({1, 1, 8, 8}, 1, purpose, 0, 0).to_vector();
    CHECK(scaled[5] == doctest::Approx(unscaled[5] / reference.octave_sum_std()).epsilon(1e-5));
}

TEST_CASE("simplex noise puts its power at low spatial frequencies, Gaussian noise spreads it evenly") {
    const std::int64_t size = 16;
    const simplex_noise s = testing::build<simplex_noise>("{octaves: 3, persistence: 0.5, frequency: 8}");
    const double simplex_low = low_frequency_share(s.draw({8, 1, size, size}, 2, 7, 0, 0).to_vector(), size, 3.0);
    const double gaussian_low = low_frequency_share(randn({8, 1, size, size}, 2, 7).to_vector(), size, 3.0);
    // Frequencies below 3 cycles are 28 of the 255 non-constant ones of a 16 x 16 DFT: about 11 %.
    MESSAGE("power below 3 cycles per image: simplex " << simplex_low << ", Gaussian " << gaussian_low);
    CHECK(gaussian_low == doctest::Approx(28.0 / 255).epsilon(0.35));
    CHECK(simplex_low > 0.6);
}

TEST_CASE("simplex noise refuses data that are not images") {
    const simplex_noise s = testing::build<simplex_noise>("{}");
    CHECK_THROWS_WITH_AS(s.draw({4, 2}, 0, 0, 0, 0), doctest::Contains("draws images [N, ..., H, W], not shape [4, 2]"),
                         config_error);
}
