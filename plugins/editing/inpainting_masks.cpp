// SPDX-License-Identifier: Apache-2.0
// The masks of the inpainting experiments.
#include "inpainting_masks.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

const std::vector<std::string>& inpainting_mask_kinds() {
    static const std::vector<std::string> kinds{"center",       "left_half",         "expand",    "thick_strokes",
                                                "thin_strokes", "every_second_line", "nearest_x2"};
    return kinds;
}

void erase_stroke(std::vector<float>& keep, std::int64_t height, std::int64_t width, double x0, double y0, double x1,
                  double y1, std::int64_t brush) {
    const double length = std::hypot(x1 - x0, y1 - y0);
    const auto points = static_cast<std::int64_t>(std::ceil(length * 4)) + 1;
    const double half = static_cast<double>(brush - 1) / 2;
    for (std::int64_t k = 0; k < points; ++k) {
        const double u = points == 1 ? 0.0 : static_cast<double>(k) / static_cast<double>(points - 1);
        const auto left = static_cast<std::int64_t>(std::lround(x0 + u * (x1 - x0) - half));
        const auto top = static_cast<std::int64_t>(std::lround(y0 + u * (y1 - y0) - half));
        for (std::int64_t r = std::max<std::int64_t>(top, 0); r < std::min(top + brush, height); ++r)
            for (std::int64_t c = std::max<std::int64_t>(left, 0); c < std::min(left + brush, width); ++c)
                keep[static_cast<std::size_t>(r * width + c)] = 0.0f;
    }
}

namespace {

/// Four strokes, each a random walk of three segments 4 to 10 pixels long from a uniform start,
/// with a brush of side `brush` (free-form masks in the manner of LaMa's and RePaint's thick and
/// thin masks, scaled to small images).
void erase_random_strokes(std::vector<float>& keep, std::int64_t height, std::int64_t width, std::int64_t brush,
                          std::uint64_t seed, std::int64_t index) {
    philox_stream stream(seed, random_purpose("inpainting/mask"), static_cast<std::uint64_t>(index));
    constexpr double pi = 3.14159265358979323846;
    for (int stroke = 0; stroke < 4; ++stroke) {
        float u[2];
        stream.uniform(u, 2);
        double x = u[0] * static_cast<double>(width), y = u[1] * static_cast<double>(height);
        for (int segment = 0; segment < 3; ++segment) {
            float v[2];
            stream.uniform(v, 2);
            const double angle = 2 * pi * v[0], length = 4 + 6 * v[1];
            const double nx = std::clamp(x + length * std::cos(angle), 0.0, static_cast<double>(width - 1));
            const double ny = std::clamp(y + length * std::sin(angle), 0.0, static_cast<double>(height - 1));
            erase_stroke(keep, height, width, x, y, nx, ny, brush);
            x = nx;
            y = ny;
        }
    }
}

}  // namespace

tensor inpainting_mask(const std::string& kind, std::int64_t height, std::int64_t width, std::uint64_t seed,
                       std::int64_t index) {
    if (height < 2 || width < 2)
        throw error(fmt::format("inpainting masks need images of at least 2 x 2, got {} x {}", height, width));
    std::vector<float> keep(static_cast<std::size_t>(height * width), 1.0f);
    const auto set = [&](std::int64_t r, std::int64_t c, float value) {
        keep[static_cast<std::size_t>(r * width + c)] = value;
    };
    if (kind == "center") {
        for (std::int64_t r = height / 4; r < height / 4 + height / 2; ++r)
            for (std::int64_t c = width / 4; c < width / 4 + width / 2; ++c) set(r, c, 0.0f);
    } else if (kind == "left_half") {
        for (std::int64_t r = 0; r < height; ++r)
            for (std::int64_t c = 0; c < width / 2; ++c) set(r, c, 0.0f);
    } else if (kind == "expand") {
        const std::int64_t kh = std::max<std::int64_t>(1, height * 5 / 14),
                           kw = std::max<std::int64_t>(1, width * 5 / 14);
        std::fill(keep.begin(), keep.end(), 0.0f);
        for (std::int64_t r = (height - kh) / 2; r < (height - kh) / 2 + kh; ++r)
            for (std::int64_t c = (width - kw) / 2; c < (width - kw) / 2 + kw; ++c) set(r, c, 1.0f);
    } else if (kind == "thick_strokes" || kind == "thin_strokes") {
        erase_random_strokes(keep, height, width, kind == "thick_strokes" ? 3 : 1, seed, index);
    } else if (kind == "every_second_line") {
        for (std::int64_t r = 1; r < height; r += 2)
            for (std::int64_t c = 0; c < width; ++c) set(r, c, 0.0f);
    } else if (kind == "nearest_x2") {
        for (std::int64_t r = 0; r < height; ++r)
            for (std::int64_t c = 0; c < width; ++c) set(r, c, r % 2 == 0 && c % 2 == 0 ? 1.0f : 0.0f);
    } else {
        throw error(
            fmt::format("unknown inpainting mask '{}'; use one of {}", kind, fmt::join(inpainting_mask_kinds(), ", ")));
    }
    return tensor::from_vector({1, height, width}, keep);
}

tensor inpainting_masks(const std::string& kind, std::int64_t height, std::int64_t width, std::uint64_t seed,
                        std::int64_t first, std::int64_t n) {
    std::vector<tensor> masks;
    for (std::int64_t i = first; i < first + n; ++i)
        masks.push_back(inpainting_mask(kind, height, width, seed, i).reshape({1, 1, height, width}));
    return concat(masks, 0);
}

}  // namespace difflab::plugins
