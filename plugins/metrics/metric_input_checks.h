// SPDX-License-Identifier: Apache-2.0
// Checks of a metric's inputs with one-line errors naming the metric, and their values as doubles.
#pragma once

#include <difflab/base/error.h>
#include <difflab/tensor/tensor.h>
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// `t`, or a difflab::error "error: METRIC: no FIELD given; FIELD must hold WHAT" when the
/// harness left it undefined or empty.
inline const tensor& require_input(const tensor& t, const std::string& metric, const std::string& field,
                                   const std::string& what) {
    if (!t.defined() || t.dim() < 1 || t.numel() == 0)
        throw error(fmt::format("{}: no {} given; {} must hold {}", metric, field, field, what));
    return t;
}

/// Throws unless `samples` and `reference` have the same shape; `why` says how the metric
/// pairs them ("psnr pairs them row by row").
inline void require_same_shape(const tensor& samples, const tensor& reference, const std::string& metric,
                               const std::string& why) {
    if (samples.shape() != reference.shape())
        throw error(fmt::format("{}: samples {} and reference {} must have the same shape; {}", metric,
                                shape_text(samples.shape()), shape_text(reference.shape()), why));
}

/// The values of `t` in row-major order, as doubles.
inline std::vector<double> values_of(const tensor& t) {
    const std::vector<float> v = t.contiguous().to_vector();
    return std::vector<double>(v.begin(), v.end());
}

/// Values per row (along dim 0) of `t`: the product of its other dimensions.
inline std::int64_t row_size(const tensor& t) {
    return t.size(0) == 0 ? 0 : t.numel() / t.size(0);
}

}  // namespace difflab::plugins
