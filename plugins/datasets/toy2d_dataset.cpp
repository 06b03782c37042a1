// SPDX-License-Identifier: Apache-2.0
// The 'toy2d' dataset: each shape drawn per example from its own Philox stream.
#include "toy2d_dataset.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab::plugins {

namespace {

constexpr double pi = 3.14159265358979323846;

/// Swiss roll angles t in [1.5 pi, 4.5 pi], as scikit-learn's make_swiss_roll.
constexpr double roll_start = 1.5 * pi, roll_end = 4.5 * pi;

struct moments {
    std::array<double, 2> mean;
    std::array<double, 2> variance;
};

/// Exact means and variances of the noiseless shapes in their own coordinates.
moments shape_moments(const std::string& kind) {
    if (kind == "moons") {
        // Upper: (cos a, sin a); lower: (1 - cos a, 1/2 - sin a); a uniform on [0, pi], each half.
        // E sin a = 2 / pi and E sin^2 a = E cos^2 a = 1/2.
        return {{0.5, 0.25}, {0.75, 0.625 - 1 / pi - 0.0625}};
    }
    if (kind == "swiss_roll") {
        // (t cos t, t sin t), t uniform on [a, b]: antiderivatives of t cos t, t sin t,
        // t^2 cos^2 t and t^2 sin^2 t = t^2 / 2 -+ t^2 cos 2t / 2.
        auto t_cos = [](double t) { return t * std::sin(t) + std::cos(t); };
        auto t_sin = [](double t) { return -t * std::cos(t) + std::sin(t); };
        auto t2_cos2t = [](double t) {
            return t * t * std::sin(2 * t) / 2 + t * std::cos(2 * t) / 2 - std::sin(2 * t) / 4;
        };
        auto t2_cos2 = [&](double t) { return t * t * t / 6 + t2_cos2t(t) / 2; };
        auto t2_sin2 = [&](double t) { return t * t * t / 6 - t2_cos2t(t) / 2; };
        const double length = roll_end - roll_start;
        auto mean_of = [&](auto f) { return (f(roll_end) - f(roll_start)) / length; };
        const double mx = mean_of(t_cos), my = mean_of(t_sin);
        return {{mx, my}, {mean_of(t2_cos2) - mx * mx, mean_of(t2_sin2) - my * my}};
    }
    if (kind == "checkerboard") return {{0, 0}, {4.0 / 3, 4.0 / 3}};  // uniform on [-2, 2] per axis
    // rings: radii (k + 1) / 4 with equal shares, angle uniform: E x^2 = E r^2 / 2.
    return {{0, 0}, {30.0 / 16 / 4 / 2, 30.0 / 16 / 4 / 2}};
}

}  // namespace

param_spec<toy2d_dataset::options> toy2d_dataset::params() {
    param_spec<options> spec{"2-D toy data: two moons, swiss roll, checkerboard or rings, at unit scale."};
    spec.add(&options::kind, "kind", "Which shape.", one_of({"moons", "swiss_roll", "checkerboard", "rings"}));
    spec.add(&options::size, "size", "Number of examples.", at_least<std::int64_t>(1));
    spec.add(&options::noise, "noise", "Standard deviation of the Gaussian noise added to each coordinate.",
             at_least(0.0));
    spec.add(&options::seed, "seed", "Seed of the examples (not the experiment's).", at_least<std::int64_t>(0));
    return spec;
}

toy2d_dataset::toy2d_dataset(const options& opts, build_context&) : opts_(opts) {
    const moments m = shape_moments(opts_.kind);
    center_ = m.mean;
    scale_ = 1 / std::sqrt((m.variance[0] + m.variance[1]) / 2);
}

example_batch toy2d_dataset::get(const std::vector<std::int64_t>& indices) const {
    const std::int64_t n = static_cast<std::int64_t>(indices.size());
    example_batch batch{tensor::empty({n, 2}), tensor::empty({n})};
    float* x = batch.x.data<float>();
    float* labels = batch.labels.data<float>();
    const std::string& kind = opts_.kind;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t index = indices[static_cast<std::size_t>(i)];
        if (index < 0 || index >= opts_.size)
            throw error(fmt::format("toy2d: example index {} is out of range [0, {})", index, opts_.size));
        philox_stream stream(static_cast<std::uint64_t>(opts_.seed), random_purpose("toy2d/example"),
                             static_cast<std::uint64_t>(index));
        float u[3], z[2];
        stream.uniform(u, 3);
        stream.normal(z, 2);
        double px = 0, py = 0;
        int label = 0;
        if (kind == "moons") {
            label = u[0] < 0.5f ? 0 : 1;
            const double a = pi * u[1];
            px = label == 0 ? std::cos(a) : 1 - std::cos(a);
            py = label == 0 ? std::sin(a) : 0.5 - std::sin(a);
        } else if (kind == "swiss_roll") {
            const double t = roll_start + (roll_end - roll_start) * u[1];
            px = t * std::cos(t);
            py = t * std::sin(t);
        } else if (kind == "checkerboard") {
            // Square (column, row) is filled when column + row is even: 2 of the 4 rows per column.
            const int column = std::min(3, static_cast<int>(4 * u[0]));
            const int row = (column % 2) + (u[1] < 0.5f ? 0 : 2);
            px = 4.0 * u[0] - 2;
            py = row - 2 + u[2];
            label = 2 * column + row / 2;
        } else {  // rings
            label = std::min(3, static_cast<int>(4 * u[0]));
            const double radius = (label + 1) / 4.0, a = 2 * pi * u[1];
            px = radius * std::cos(a);
            py = radius * std::sin(a);
        }
        x[2 * i] = static_cast<float>((px - center_[0]) * scale_ + opts_.noise * z[0]);
        x[2 * i + 1] = static_cast<float>((py - center_[1]) * scale_ + opts_.noise * z[1]);
        labels[i] = static_cast<float>(label);
    }
    return batch;
}

}  // namespace difflab::plugins
