// SPDX-License-Identifier: Apache-2.0
// Dynamic thresholding of the denoised estimate.
#include <difflab/base/error.h>
#include <difflab/diffusion/dynamic_thresholding.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace difflab {

dynamic_thresholding::dynamic_thresholding(const denoiser& inner, double percentile)
    : denoiser(inner.diffusion_process()), inner_(inner), percentile_(percentile) {
    if (!(percentile > 0 && percentile <= 1))
        throw config_error(fmt::format(
            "dynamic thresholding's percentile must be in (0, 1], got {:g}; Imagen uses 0.995", percentile));
}

tensor dynamic_thresholding::denoise(const tensor& x, double t) const {
    std::vector<float> values = inner_.x0(x, t).contiguous().to_vector();
    const std::int64_t rows = x.size(0);
    const auto row_size = static_cast<std::size_t>(rows == 0 ? 0 : x.numel() / rows);
    if (row_size == 0) return tensor::from_vector(x.shape(), values);
    std::vector<float> magnitudes(row_size);
    for (std::int64_t r = 0; r < rows; ++r) {
        float* row = values.data() + static_cast<std::size_t>(r) * row_size;
        std::transform(row, row + row_size, magnitudes.begin(), [](float v) { return std::abs(v); });
        // The quantile as numpy's default (linear interpolation between order statistics).
        const double position = percentile_ * static_cast<double>(row_size - 1);
        const auto below = static_cast<std::size_t>(std::floor(position));
        std::nth_element(magnitudes.begin(), magnitudes.begin() + static_cast<std::ptrdiff_t>(below), magnitudes.end());
        double quantile = magnitudes[below];
        if (below + 1 < row_size) {
            const float above =
                *std::min_element(magnitudes.begin() + static_cast<std::ptrdiff_t>(below) + 1, magnitudes.end());
            quantile += (position - static_cast<double>(below)) * (above - quantile);
        }
        const auto s = static_cast<float>(std::max(quantile, 1.0));
        for (std::size_t k = 0; k < row_size; ++k) row[k] = std::clamp(row[k], -s, s) / s;
    }
    return tensor::from_vector(x.shape(), values);
}

}  // namespace difflab
