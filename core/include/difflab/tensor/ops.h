// SPDX-License-Identifier: Apache-2.0
// Differentiable tensor operations: arithmetic with broadcasting, pointwise functions,
// reductions, joining, and losses. Network layers (convolution, matmul, norms, ...) are in
// nn_ops.h.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace difflab {

// Arithmetic with NumPy broadcasting.
tensor add(const tensor& a, const tensor& b);
tensor sub(const tensor& a, const tensor& b);
tensor mul(const tensor& a, const tensor& b);
tensor div(const tensor& a, const tensor& b);
tensor add(const tensor& a, float b);
tensor mul(const tensor& a, float b);
tensor neg(const tensor& a);
inline tensor operator+(const tensor& a, const tensor& b) {
    return add(a, b);
}
inline tensor operator-(const tensor& a, const tensor& b) {
    return sub(a, b);
}
inline tensor operator*(const tensor& a, const tensor& b) {
    return mul(a, b);
}
inline tensor operator/(const tensor& a, const tensor& b) {
    return div(a, b);
}
inline tensor operator+(const tensor& a, float b) {
    return add(a, b);
}
inline tensor operator-(const tensor& a, float b) {
    return add(a, -b);
}
inline tensor operator*(const tensor& a, float b) {
    return mul(a, b);
}
inline tensor operator*(float a, const tensor& b) {
    return mul(b, a);
}
inline tensor operator/(const tensor& a, float b) {
    return mul(a, 1.0f / b);
}
inline tensor operator-(const tensor& a) {
    return neg(a);
}
// Coefficients computed in double (as samplers compute theirs) round to float once, exactly as
// passing static_cast<float>(b) to the overloads above does, so results stay bitwise the same.
// Templates that only match double, so that integer literals still pick the float overloads.
template <class D, std::enable_if_t<std::is_same_v<D, double>, int> = 0>
inline tensor operator*(const tensor& a, D b) {
    return a * static_cast<float>(b);
}
template <class D, std::enable_if_t<std::is_same_v<D, double>, int> = 0>
inline tensor operator*(D a, const tensor& b) {
    return static_cast<float>(a) * b;
}
template <class D, std::enable_if_t<std::is_same_v<D, double>, int> = 0>
inline tensor operator/(const tensor& a, D b) {
    return a / static_cast<float>(b);
}
template <class D, std::enable_if_t<std::is_same_v<D, double>, int> = 0>
inline tensor operator+(const tensor& a, D b) {
    return a + static_cast<float>(b);
}
template <class D, std::enable_if_t<std::is_same_v<D, double>, int> = 0>
inline tensor operator-(const tensor& a, D b) {
    return a - static_cast<float>(b);
}

// Pointwise functions.
tensor exp(const tensor& a);
tensor log(const tensor& a);
tensor sqrt(const tensor& a);
tensor pow(const tensor& a, float exponent);
tensor abs(const tensor& a);
tensor clamp(const tensor& a, float low, float high);
tensor relu(const tensor& a);
tensor silu(const tensor& a);
tensor gelu(const tensor& a);  ///< exact (erf) form, as torch.nn.GELU()
tensor sigmoid(const tensor& a);
tensor tanh(const tensor& a);

// Reductions over `dims` (empty: all); negative dims count from the end.
tensor sum(const tensor& a, const std::vector<std::int64_t>& dims = {}, bool keepdim = false);
tensor mean(const tensor& a, const std::vector<std::int64_t>& dims = {}, bool keepdim = false);

// Joining and splitting along dimension d.
tensor concat(const std::vector<tensor>& parts, std::int64_t d);
std::vector<tensor> split(const tensor& a, const std::vector<std::int64_t>& sizes, std::int64_t d);

/// Inverted dropout with probability p (identity when !training or p == 0). Row i along
/// dim 0 draws its mask from the Philox stream (seed, "dropout", index + i, step), so masks
/// are reproducible and do not depend on how a batch is split; pass a new `step` for each
/// training step.
tensor dropout(const tensor& a, float p, bool training, std::uint64_t seed, std::uint64_t index,
               std::uint64_t step = 0);
/// Rows of `table` ([num, dim]) selected by integer `ids` (f32 holding whole numbers).
tensor embedding(const tensor& table, const tensor& ids);

// Losses, averaged over all elements (or the batch for the classification losses).
tensor mse_loss(const tensor& prediction, const tensor& target);
tensor l1_loss(const tensor& prediction, const tensor& target);
/// `logits` [N, C], `labels` [N] holding class indices.
tensor cross_entropy(const tensor& logits, const tensor& labels);
/// Binary cross-entropy on logits (numerically stable, as BCEWithLogitsLoss).
tensor binary_cross_entropy_with_logits(const tensor& logits, const tensor& targets);

}  // namespace difflab
