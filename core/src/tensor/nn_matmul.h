// SPDX-License-Identifier: Apache-2.0
// Matrix products shared by linear, matmul and attention (internal).
#pragma once

#include <difflab/tensor/tensor.h>

namespace difflab::nn_detail {

/// alpha * a @ b (+ bias [m]) with batch broadcasting, on oneDNN matmul; not recorded.
/// Strided views whose last two dims are row- or column-major are read in place.
tensor matmul_raw(const tensor& a, const tensor& b, const tensor& bias = tensor(), float alpha = 1.0f);

/// alpha * a @ b, recorded (attention scales q k^T by 1/sqrt(d) inside the product).
tensor scaled_matmul(const tensor& a, const tensor& b, float alpha);

}  // namespace difflab::nn_detail
