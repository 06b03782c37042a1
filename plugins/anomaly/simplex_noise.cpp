// SPDX-License-Identifier: Apache-2.0
// The 'simplex' noise (Wyatt et al. 2022, AnoDDPM).
#include "simplex_noise.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "simplex_lattice.h"

namespace difflab::plugins {

param_spec<simplex_noise::options> simplex_noise::params() {
    param_spec<options> spec{
        "Fractal 3-D simplex noise on images (Wyatt et al. 2022, AnoDDPM), keyed per example like every draw."};
    spec.add(&options::octaves, "octaves", "Number of octaves (AnoDDPM: 6).", at_least<std::int64_t>(1));
    spec.add(&options::persistence, "persistence", "Amplitude ratio of each octave to the one before (AnoDDPM: 0.8).",
             closed_range(0.0, 1.0));
    spec.add(&options::frequency, "frequency",
             "Period of the first octave in pixels; each octave halves it (AnoDDPM: 64 on 256 x 256 images).",
             greater_than(0.0));
    spec.add(&options::normalize, "normalize",
             "Divide by the octave sum's standard deviation, for unit variance (AnoDDPM's code does not).");
    return spec;
}

namespace {

/// sum_o persistence^o simplex3(x / f_o + a, y / f_o + b, z + o), f_o = frequency / 2^o.
double octave_sum(const simplex_noise::options& o, double x, double y, double a, double b, double z) {
    double value = 0, amplitude = 1, period = o.frequency;
    for (std::int64_t octave = 0; octave < o.octaves; ++octave) {
        value += amplitude * simplex_noise3(x / period + a, y / period + b, z + static_cast<double>(octave));
        amplitude *= o.persistence;
        period /= 2;
    }
    return value;
}

}  // namespace

simplex_noise::simplex_noise(const options& opts, build_context&) : opts_(opts) {
    if (!opts_.normalize) return;
    // Points far apart on the lattice (a fixed stream): the octave sum's spread over positions.
    philox_stream stream(0, random_purpose("simplex/normalization"), 0);
    const std::size_t n = 65536;
    std::vector<float> u(3 * n);
    stream.uniform(u.data(), u.size());
    double square = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double v = octave_sum(opts_, 0, 0, 256.0 * u[3 * i], 256.0 * u[3 * i + 1], 256.0 * u[3 * i + 2]);
        square += v * v;
    }
    scale_ = std::sqrt(square / static_cast<double>(n));
}

tensor simplex_noise::draw(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index,
                           std::uint64_t step) const {
    if (shape.size() < 3)
        throw config_error(
            fmt::format("noise 'simplex' draws images [N, ..., H, W], not shape {}; use "
                        "noise: {{type: gaussian}} for other data",
                        shape_text(shape)));
    const std::int64_t height = shape[shape.size() - 2], width = shape[shape.size() - 1];
    std::int64_t planes = 1;  // per example: channels (and frames)
    for (std::size_t d = 1; d + 2 < shape.size(); ++d) planes *= shape[d];
    std::vector<float> out(static_cast<std::size_t>(shape[0] * planes * height * width));
    const double scale = opts_.normalize ? 1.0 / scale_ : 1.0;
    for (std::int64_t n = 0; n < shape[0]; ++n) {
        philox_stream stream(seed, purpose, first_index + static_cast<std::uint64_t>(n), step);
        std::vector<float> offsets(static_cast<std::size_t>(3 * planes));
        stream.uniform(offsets.data(), offsets.size());
        for (std::int64_t p = 0; p < planes; ++p) {
            const double a = 256.0 * offsets[static_cast<std::size_t>(3 * p)],
                         b = 256.0 * offsets[static_cast<std::size_t>(3 * p + 1)],
                         z = 256.0 * offsets[static_cast<std::size_t>(3 * p + 2)];
            float* plane = out.data() + (n * planes + p) * height * width;
            for (std::int64_t r = 0; r < height; ++r)
                for (std::int64_t c = 0; c < width; ++c)
                    plane[r * width + c] = static_cast<float>(
                        scale * octave_sum(opts_, static_cast<double>(c), static_cast<double>(r), a, b, z));
        }
    }
    return tensor::from_vector(shape, out);
}

}  // namespace difflab::plugins
