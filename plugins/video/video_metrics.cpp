// SPDX-License-Identifier: Apache-2.0
// Garment-trajectory errors and best-of-k selection for predicted videos.
#include "video_metrics.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace difflab::plugins {

tensor frame_batch(const tensor& videos, std::int64_t f) {
    if (videos.dim() != 5 || f < 0 || f >= videos.size(2))
        throw error(fmt::format("video: no frame {} in videos {}; expected [N, C, F, H, W] with f < F", f,
                                shape_text(videos.shape())));
    const std::int64_t n = videos.size(0), c = videos.size(1), h = videos.size(3), w = videos.size(4);
    return videos.slice(2, f, f + 1).contiguous().reshape({n, c, h, w});
}

std::array<double, 2> intensity_centroid(const tensor& image) {
    const std::int64_t c = image.size(0), h = image.size(1), w = image.size(2);
    const std::vector<float> v = image.contiguous().to_vector();
    double mass = 0, row = 0, col = 0;
    for (std::int64_t k = 0; k < c; ++k)
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x) {
                const double m = std::clamp((v[static_cast<std::size_t>((k * h + y) * w + x)] + 1.0) / 2.0, 0.0, 1.0);
                mass += m;
                row += m * static_cast<double>(y);
                col += m * static_cast<double>(x);
            }
    if (mass <= 0) return {(static_cast<double>(h) - 1) / 2, (static_cast<double>(w) - 1) / 2};
    return {row / mass, col / mass};
}

std::vector<std::vector<double>> centroid_errors(const tensor& samples, const tensor& truths,
                                                 const std::vector<std::int64_t>& frames) {
    if (samples.shape() != truths.shape() || samples.dim() != 5)
        throw error(fmt::format("video: samples {} and truths {} must be videos [N, C, F, H, W] of one shape",
                                shape_text(samples.shape()), shape_text(truths.shape())));
    const std::int64_t n = samples.size(0);
    std::vector<std::vector<double>> out(static_cast<std::size_t>(n));
    for (std::int64_t f : frames) {
        const tensor s = frame_batch(samples, f), t = frame_batch(truths, f);
        for (std::int64_t i = 0; i < n; ++i) {
            const auto a = intensity_centroid(s.slice(0, i, i + 1).reshape({s.size(1), s.size(2), s.size(3)}));
            const auto b = intensity_centroid(t.slice(0, i, i + 1).reshape({t.size(1), t.size(2), t.size(3)}));
            out[static_cast<std::size_t>(i)].push_back(std::hypot(a[0] - b[0], a[1] - b[1]));
        }
    }
    return out;
}

double best_of_draws(const std::vector<double>& per_sample, std::int64_t videos, bool higher_is_better) {
    const auto count = static_cast<std::int64_t>(per_sample.size());
    if (videos < 1 || count % videos != 0)
        throw error(fmt::format("video: {} samples are not a whole number of draws of {} videos", count, videos));
    double total = 0;
    for (std::int64_t v = 0; v < videos; ++v) {
        double best = per_sample[static_cast<std::size_t>(v)];
        for (std::int64_t s = v + videos; s < count; s += videos) {
            const double value = per_sample[static_cast<std::size_t>(s)];
            best = higher_is_better ? std::max(best, value) : std::min(best, value);
        }
        total += best;
    }
    return total / static_cast<double>(videos);
}

double mean_of(const std::vector<double>& values) {
    if (values.empty()) return 0;
    return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

}  // namespace difflab::plugins
