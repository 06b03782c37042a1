// SPDX-License-Identifier: Apache-2.0
// What the editing tasks share.
#include "editing_common.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

source_images load_source_images(const dataset& data, std::int64_t count, const std::string& task) {
    if (data.size() < count)
        throw config_error(
            fmt::format("task '{}' edits the first {} images of the data, which has only {}; lower "
                        "sample.count and evaluate.count or use a larger data split",
                        task, count, data.size()));
    if (data.example_shape().size() != 3)
        throw config_error(fmt::format("task '{}' edits images [C, H, W]; the data gives examples of shape {}", task,
                                       shape_text(data.example_shape())));
    std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) indices[static_cast<std::size_t>(i)] = i;
    const example_batch batch = data.get(indices);
    return {batch.x.contiguous(), batch.labels};
}

void write_comparison_figure(const std::filesystem::path& file, const std::vector<tensor>& rows, std::int64_t columns) {
    std::vector<tensor> parts;
    for (const tensor& row : rows) parts.push_back(row.slice(0, 0, std::min(columns, row.size(0))).contiguous());
    write_image_grid(file, concat(parts, 0), std::min(columns, rows.front().size(0)), -1.0f, 1.0f);
}

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
