// SPDX-License-Identifier: Apache-2.0
// What the editing tasks share.
#include "editing_common.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

double missing_pixel_psnr(const tensor& samples, const tensor& targets, const tensor& masks) {
    const std::int64_t n = samples.size(0), channels = samples.size(1), pixels = masks.size(2) * masks.size(3);
    if (targets.shape() != samples.shape() || masks.size(0) != n || masks.size(1) != 1)
        throw error(fmt::format("missing_pixel_psnr: samples {}, targets {} and masks {} do not pair",
                                shape_text(samples.shape()), shape_text(targets.shape()), shape_text(masks.shape())));
    const std::vector<float> a = samples.contiguous().to_vector(), b = targets.contiguous().to_vector(),
                             m = masks.contiguous().to_vector();
    const double floor_mse = std::pow(2.0 / 255, 2);
    double total = 0;
    std::int64_t counted = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        double squared = 0;
        std::int64_t missing = 0;
        for (std::int64_t c = 0; c < channels; ++c)
            for (std::int64_t p = 0; p < pixels; ++p) {
                if (m[static_cast<std::size_t>(i * pixels + p)] != 0.0f) continue;
                const auto at = static_cast<std::size_t>((i * channels + c) * pixels + p);
                squared += std::pow(double(a[at]) - b[at], 2);
                ++missing;
            }
        if (missing == 0) continue;
        total += 10 * std::log10(4.0 / std::max(squared / static_cast<double>(missing), floor_mse));
        ++counted;
    }
    if (counted == 0) throw error("missing_pixel_psnr: no image has a missing pixel");
    return total / static_cast<double>(counted);
}

}  // namespace difflab::plugins
