// SPDX-License-Identifier: Apache-2.0
// Strided element loops over several same-shaped operands, for ops oneDNN has no primitive for (internal).
#pragma once

#include <difflab/tensor/tensor.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <type_traits>
#include <vector>

namespace difflab::strided {

/// Operands below this many elements run on one thread: forking costs more than the work.
inline constexpr std::int64_t parallel_threshold = 1 << 15;

/// A shape walked as rows: dims merged where every operand is dense across them, size-1
/// dims dropped, so most loops become one long inner row with fixed strides.
template <std::size_t N>
struct row_plan {
    std::vector<std::int64_t> outer_shape;                   // dims above the inner row
    std::vector<std::array<std::int64_t, N>> outer_strides;  // per dim, per operand
    std::int64_t inner = 1;                                  // length of a row
    std::array<std::int64_t, N> inner_strides{};             // per operand
    std::int64_t rows = 1;
};

template <std::size_t N>
row_plan<N> plan_rows(const shape_t& shape, const std::array<const shape_t*, N>& strides) {
    std::vector<std::int64_t> dims;
    std::vector<std::array<std::int64_t, N>> steps;
    // Walk dims in the memory order of operand 0 (largest stride first), so that a
    // channels-last output streams through memory with its channels innermost.
    std::vector<std::size_t> order(shape.size());
    for (std::size_t d = 0; d < order.size(); ++d) order[d] = d;
    const shape_t& lead = *strides[0];
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return std::abs(lead[x]) > std::abs(lead[y]); });
    for (std::size_t d : order) {
        if (shape[d] == 1) continue;
        std::array<std::int64_t, N> s{};
        for (std::size_t k = 0; k < N; ++k) s[k] = (*strides[k])[d];
        if (!dims.empty()) {
            bool merge = true;
            for (std::size_t k = 0; k < N; ++k) merge = merge && steps.back()[k] == s[k] * shape[d];
            if (merge) {
                dims.back() *= shape[d];
                steps.back() = s;
                continue;
            }
        }
        dims.push_back(shape[d]);
        steps.push_back(s);
    }
    row_plan<N> plan;
    if (!dims.empty()) {
        plan.inner = dims.back();
        plan.inner_strides = steps.back();
        dims.pop_back();
        steps.pop_back();
    }
    plan.outer_shape = dims;
    plan.outer_strides = steps;
    for (std::int64_t size : dims) plan.rows *= size;
    return plan;
}

/// Element offsets (per operand) of the first element of `row` in a plan.
template <std::size_t N>
std::array<std::int64_t, N> row_offsets(const row_plan<N>& plan, std::int64_t row) {
    std::array<std::int64_t, N> offsets{};
    for (std::size_t d = plan.outer_shape.size(); d-- > 0;) {
        const std::int64_t i = row % plan.outer_shape[d];
        row /= plan.outer_shape[d];
        for (std::size_t k = 0; k < N; ++k) offsets[k] += i * plan.outer_strides[d][k];
    }
    return offsets;
}

/// Calls body(offsets, count, inner_strides) for every row, where offsets[k] is the element
/// offset of the row's first element in operand k (relative to the operand's own start).
/// Rows are independent and each runs on one thread, so results do not depend on the
/// thread count.
template <std::size_t N, class Body>
void for_each_row(const shape_t& shape, const std::array<const shape_t*, N>& strides, Body&& body) {
    const row_plan<N> plan = plan_rows<N>(shape, strides);
    const std::int64_t total = plan.rows * plan.inner;
    if (total == 0 || shape_numel(shape) == 0) return;
    const std::int64_t outer_dims = static_cast<std::int64_t>(plan.outer_shape.size());
    auto run_row = [&](std::int64_t row) {
        std::array<std::int64_t, N> offsets{};
        std::int64_t rest = row;
        for (std::int64_t d = outer_dims - 1; d >= 0; --d) {
            const std::int64_t size = plan.outer_shape[static_cast<std::size_t>(d)];
            const std::int64_t i = rest % size;
            rest /= size;
            for (std::size_t k = 0; k < N; ++k) offsets[k] += i * plan.outer_strides[static_cast<std::size_t>(d)][k];
        }
        body(offsets, plan.inner, plan.inner_strides);
    };
    if (total < parallel_threshold || plan.rows == 1) {
        if (plan.rows == 1 && total >= parallel_threshold) {
            // One long row: split it into chunks so that big contiguous loops use every core.
            const std::int64_t chunk = 1 << 14;
            const std::int64_t chunks = (plan.inner + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
            for (std::int64_t c = 0; c < chunks; ++c) {
                std::array<std::int64_t, N> offsets{};
                for (std::size_t k = 0; k < N; ++k) offsets[k] = c * chunk * plan.inner_strides[k];
                const std::int64_t count = std::min(chunk, plan.inner - c * chunk);
                body(offsets, count, plan.inner_strides);
            }
            return;
        }
        for (std::int64_t row = 0; row < plan.rows; ++row) run_row(row);
        return;
    }
#pragma omp parallel for schedule(static)
    for (std::int64_t row = 0; row < plan.rows; ++row) run_row(row);
}

/// Reads element i of a row as f32 whatever the storage type.
inline float load(const void* base, dtype type, std::int64_t offset) {
    if (type == dtype::f32) return static_cast<const float*>(base)[offset];
    return bf16::to_float(static_cast<const std::uint16_t*>(base)[offset]);
}

inline void store(void* base, dtype type, std::int64_t offset, float value) {
    if (type == dtype::f32)
        static_cast<float*>(base)[offset] = value;
    else
        static_cast<std::uint16_t*>(base)[offset] = bf16::from_float(value);
}

/// An element as f32 whatever its storage (f32, or bf16 bits), and back: typed loops over
/// one storage type that the compiler can vectorize, unlike load/store's per-element switch.
inline float widen(float v) {
    return v;
}
inline float widen(std::uint16_t v) {
    return bf16::to_float(v);
}
template <class T>
T narrow(float v) {
    if constexpr (std::is_same_v<T, float>)
        return v;
    else
        return bf16::from_float(v);
}

}  // namespace difflab::strided
