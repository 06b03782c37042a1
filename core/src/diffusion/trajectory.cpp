// SPDX-License-Identifier: Apache-2.0
// The denoising trajectory: recording a sampler's evaluations, and the strip image.
#include <difflab/base/error.h>
#include <difflab/diffusion/trajectory.h>
#include <difflab/io/image_io.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace difflab {

trajectory_recorder::trajectory_recorder(const denoiser& inner, std::int64_t rows)
    : denoiser(inner.diffusion_process()), inner_(inner), rows_(rows) {
    if (rows < 1) throw error(fmt::format("trajectory: record at least 1 sample, not {}", rows));
}

tensor trajectory_recorder::denoise(const tensor& x, double t) const {
    tensor x0 = inner_.x0(x, t);
    const std::int64_t rows = std::min(rows_, x.size(0));
    // Copies: a sampler may update its state in place after the call.
    frames_.push_back({t, x.slice(0, 0, rows).clone(), x0.slice(0, 0, rows).clone()});
    return x0;
}

std::vector<std::size_t> strip_frames(std::size_t frames, std::size_t columns) {
    std::vector<std::size_t> picked;
    if (columns >= frames) {
        for (std::size_t i = 0; i < frames; ++i) picked.push_back(i);
        return picked;
    }
    if (columns == 1) return {0};
    for (std::size_t i = 0; i < columns; ++i)
        picked.push_back(static_cast<std::size_t>(
            std::llround(static_cast<double>(i) * static_cast<double>(frames - 1) / static_cast<double>(columns - 1))));
    return picked;
}

std::vector<double> write_trajectory_strip(const std::filesystem::path& path, const process& p,
                                           const std::vector<trajectory_frame>& frames, const tensor& samples,
                                           std::int64_t columns) {
    if (frames.empty()) throw error(source_mark{path.string()}, "no sampler evaluation was recorded");
    if (samples.dim() != 4)
        throw error(source_mark{path.string()}, "a trajectory strip is drawn for image samples [N, C, H, W] only");
    const std::vector<std::size_t> picked = strip_frames(frames.size(), static_cast<std::size_t>(columns));
    const std::int64_t rows = frames.front().x.size(0);
    std::vector<tensor> scaled_x, estimates;
    std::vector<double> times;
    for (std::size_t i : picked) {
        const trajectory_frame& f = frames[i];
        const double a = p.alpha(f.t), s = p.sigma(f.t);
        scaled_x.push_back(clamp(f.x * static_cast<float>(1.0 / std::sqrt(a * a + s * s)), -1.0f, 1.0f));
        estimates.push_back(clamp(f.x0, -1.0f, 1.0f));
        times.push_back(f.t);
    }
    const tensor final_samples = clamp(samples.slice(0, 0, rows), -1.0f, 1.0f);
    // Image order: sample 0's x_t row, its estimate row, sample 1's x_t row, ...
    std::vector<tensor> cells;
    for (std::int64_t r = 0; r < rows; ++r) {
        for (const auto* row : {&scaled_x, &estimates}) {
            for (const tensor& frame : *row) cells.push_back(frame.slice(0, r, r + 1));
            cells.push_back(final_samples.slice(0, r, r + 1));
        }
    }
    write_image_grid(path, concat(cells, 0), static_cast<std::int64_t>(picked.size()) + 1, -1.0f, 1.0f);
    return times;
}

}  // namespace difflab
