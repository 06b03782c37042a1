// SPDX-License-Identifier: Apache-2.0
// The real images a task edits or restores, and comparison figures.
#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <difflab/run/source_images.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>

namespace difflab {

source_images load_source_images(const dataset& data, std::int64_t count, const std::string& task) {
    if (data.size() < count)
        throw config_error(
            fmt::format("task '{}' starts from the first {} images of the data, which has only {}; lower "
                        "sample.count and evaluate.count or use a larger data split",
                        task, count, data.size()));
    if (data.example_shape().size() != 3)
        throw config_error(fmt::format("task '{}' works on images [C, H, W]; the data gives examples of shape {}", task,
                                       shape_text(data.example_shape())));
    std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) indices[static_cast<std::size_t>(i)] = i;
    const example_batch batch = data.get(indices);
    return {batch.x.contiguous(), batch.labels};
}

namespace {

/// [N, C, h, w] -> [N, C, h k, w k], each pixel repeated k x k times (nearest neighbour).
tensor repeat_pixels(const tensor& images, std::int64_t k) {
    const std::int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
    const std::vector<float> in = images.contiguous().to_vector();
    std::vector<float> out(static_cast<std::size_t>(n * c * h * k * w * k));
    for (std::int64_t plane = 0; plane < n * c; ++plane)
        for (std::int64_t y = 0; y < h * k; ++y)
            for (std::int64_t x = 0; x < w * k; ++x)
                out[static_cast<std::size_t>((plane * h * k + y) * w * k + x)] =
                    in[static_cast<std::size_t>((plane * h + y / k) * w + x / k)];
    return tensor::from_vector({n, c, h * k, w * k}, out);
}

}  // namespace

void write_comparison_figure(const std::filesystem::path& file, const std::vector<tensor>& rows, std::int64_t columns) {
    std::int64_t height = 0, width = 0;  // of the largest row
    for (const tensor& row : rows)
        if (row.size(2) > height) height = row.size(2), width = row.size(3);
    std::vector<tensor> parts;
    for (const tensor& row : rows) {
        tensor shown = row.slice(0, 0, std::min(columns, row.size(0))).contiguous();
        const std::int64_t k = height / shown.size(2);
        if (shown.size(2) * k != height || shown.size(3) * k != width)
            throw error(fmt::format("comparison figure: a row of {} images does not scale to {}x{}",
                                    shape_text(shown.shape()), height, width));
        if (k > 1) shown = repeat_pixels(shown, k);
        parts.push_back(shown);
    }
    write_image_grid(file, concat(parts, 0), std::min(columns, rows.front().size(0)), -1.0f, 1.0f);
}

}  // namespace difflab
