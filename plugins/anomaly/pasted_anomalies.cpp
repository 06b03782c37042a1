// SPDX-License-Identifier: Apache-2.0
// Synthetic anomalies pasted onto real images.
#include "pasted_anomalies.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab::plugins {

const std::vector<std::string>& anomaly_kinds() {
    static const std::vector<std::string> kinds{"square", "patch"};
    return kinds;
}

anomalous_images paste_anomalies(const tensor& images, const std::string& kind, std::int64_t size, double fraction,
                                 std::uint64_t seed, std::int64_t first, std::int64_t shift) {
    if (kind != "square" && kind != "patch")
        throw error(fmt::format("paste_anomalies: unknown anomaly kind '{}'; valid: square, patch", kind));
    if (images.dim() != 4 || images.size(2) < size || images.size(3) < size || size < 1)
        throw error(fmt::format("paste_anomalies: {} images cannot take a {} x {} anomaly", shape_text(images.shape()),
                                size, size));
    const std::int64_t n = images.size(0), channels = images.size(1), height = images.size(2), width = images.size(3);
    const std::int64_t plane = height * width;
    const std::vector<float> source = images.contiguous().to_vector();
    std::vector<float> x = source, masks(static_cast<std::size_t>(n * plane), 0.0f),
                       labels(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        philox_stream stream(seed, random_purpose("anomaly/paste"), static_cast<std::uint64_t>(first + i));
        float u = 0;
        stream.uniform(&u, 1);
        if (u >= fraction) continue;
        labels[static_cast<std::size_t>(i)] = 1;
        const auto top = static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(height - size + 1)));
        const auto left = static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(width - size + 1)));
        const auto from_top = static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(height - size + 1)));
        const auto from_left = static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(width - size + 1)));
        const std::int64_t donor = (i + shift) % n;
        for (std::int64_t c = 0; c < channels; ++c) {
            double covered = 0;
            for (std::int64_t r = 0; r < size; ++r)
                for (std::int64_t q = 0; q < size; ++q)
                    covered +=
                        source[static_cast<std::size_t>((i * channels + c) * plane + (top + r) * width + left + q)];
            const float constant = covered / static_cast<double>(size * size) > 0 ? -1.0f : 1.0f;
            for (std::int64_t r = 0; r < size; ++r)
                for (std::int64_t q = 0; q < size; ++q) {
                    const auto at = static_cast<std::size_t>((i * channels + c) * plane + (top + r) * width + left + q);
                    x[at] = kind == "square" ? constant
                                             : source[static_cast<std::size_t>((donor * channels + c) * plane +
                                                                               (from_top + r) * width + from_left + q)];
                }
        }
        for (std::int64_t r = 0; r < size; ++r)
            for (std::int64_t q = 0; q < size; ++q)
                masks[static_cast<std::size_t>(i * plane + (top + r) * width + left + q)] = 1;
    }
    return {tensor::from_vector(images.shape(), x), tensor::from_vector({n, 1, height, width}, masks),
            tensor::from_vector({n}, labels)};
}

}  // namespace difflab::plugins
