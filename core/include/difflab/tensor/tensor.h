// SPDX-License-Identifier: Apache-2.0
// Tensors: f32 (and bf16) strided views over shared, aligned storage, with autograd hooks.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace difflab {

enum class dtype { f32, bf16 };

std::size_t dtype_size(dtype type);
const char* dtype_name(dtype type);

using shape_t = std::vector<std::int64_t>;

/// A bfloat16 value (the top 16 bits of an IEEE f32), the element type of dtype::bf16.
struct bf16 {
    std::uint16_t bits = 0;

    bf16() = default;
    /// Rounds to nearest even (NaN stays a quiet NaN), as oneDNN and PyTorch do.
    explicit bf16(float value) : bits(from_float(value)) {}
    explicit operator float() const { return to_float(bits); }

    static std::uint16_t from_float(float value) {
        std::uint32_t u = 0;
        std::memcpy(&u, &value, sizeof u);
        if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
        u += 0x7fffu + ((u >> 16) & 1u);
        return static_cast<std::uint16_t>(u >> 16);
    }
    static float to_float(std::uint16_t bits) {
        const std::uint32_t u = static_cast<std::uint32_t>(bits) << 16;
        float value = 0;
        std::memcpy(&value, &u, sizeof value);
        return value;
    }
};

/// "[64, 32, 28, 28]".
std::string shape_text(const shape_t& shape);
std::int64_t shape_numel(const shape_t& shape);

/// A reference-counted, 64-byte aligned byte buffer. Tensors share storage through views;
/// a copy is always explicit (clone, contiguous on a non-contiguous view, to).
class storage {
public:
    explicit storage(std::size_t bytes);
    ~storage();
    storage(const storage&) = delete;
    storage& operator=(const storage&) = delete;

    void* data() { return data_; }
    const void* data() const { return data_; }
    std::size_t bytes() const { return bytes_; }

private:
    void* data_;
    std::size_t bytes_;
};

class grad_node;
struct tensor_impl;

/// A strided n-dimensional array (up to 5-D) over shared storage (PyTorch semantics).
/// Memory layout is part of the strides: a 4-D tensor may be NCHW-contiguous or channels-last
/// (NHWC in memory), which oneDNN's fast convolution kernels need. Copying a `tensor` handle
/// aliases; `clone()` copies.
class tensor {
public:
    tensor() = default;  ///< undefined

    // --- construction ---------------------------------------------------------------------
    static tensor empty(const shape_t& shape, dtype type = dtype::f32);
    static tensor zeros(const shape_t& shape, dtype type = dtype::f32);
    static tensor full(const shape_t& shape, float value, dtype type = dtype::f32);
    static tensor ones(const shape_t& shape, dtype type = dtype::f32) { return full(shape, 1.0f, type); }
    /// An f32 tensor holding `values` in row-major order (values.size() == numel).
    static tensor from_vector(const shape_t& shape, const std::vector<float>& values);
    static tensor scalar(float value) { return from_vector({}, {value}); }
    /// Empty channels-last tensor (4-D: N,C,H,W logical, NHWC memory; 5-D: NDHWC).
    static tensor empty_channels_last(const shape_t& shape, dtype type = dtype::f32);

    // --- properties -----------------------------------------------------------------------
    bool defined() const { return impl_ != nullptr; }
    const shape_t& shape() const;
    std::int64_t dim() const;
    /// Size of dimension d; negative d counts from the end.
    std::int64_t size(std::int64_t d) const;
    std::int64_t numel() const;
    const shape_t& strides() const;  ///< in elements
    std::int64_t offset() const;     ///< in elements
    dtype type() const;
    bool is_contiguous() const;     ///< row-major dense
    bool is_channels_last() const;  ///< 4-D NHWC or 5-D NDHWC dense

    /// Pointer to the first element (at offset()); T is float for f32 and bf16 for bf16
    /// (a mismatch throws).
    template <class T>
    T* data();
    template <class T>
    const T* data() const;
    void* raw_data();
    const void* raw_data() const;
    const std::shared_ptr<storage>& storage_ptr() const;
    bool shares_storage_with(const tensor& other) const;

    /// The values as f32 in logical row-major order (a copy).
    std::vector<float> to_vector() const;
    /// The single value of a one-element tensor.
    float item() const;

    // --- views (share storage, recorded by autograd) --------------------------------------
    tensor view(const shape_t& shape) const;     ///< needs a contiguous tensor; one dim may be -1
    tensor reshape(const shape_t& shape) const;  ///< a view when possible, else a copy
    tensor permute(const std::vector<std::int64_t>& order) const;
    tensor transpose(std::int64_t a, std::int64_t b) const;
    tensor slice(std::int64_t d, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
    tensor unsqueeze(std::int64_t d) const;
    tensor squeeze(std::int64_t d) const;
    tensor expand(const shape_t& shape) const;  ///< broadcast view (stride 0)

    // --- copies ---------------------------------------------------------------------------
    tensor contiguous() const;        ///< itself when already contiguous
    tensor to_channels_last() const;  ///< itself when already channels-last
    tensor clone() const;
    tensor to(dtype type) const;
    /// Same data, cut from the graph.
    tensor detach() const;
    /// Copies `source` (broadcast to this shape) into this tensor's memory; not recorded.
    void copy_(const tensor& source);
    void fill_(float value);

    // --- autograd --------------------------------------------------------------------------
    bool requires_grad() const;
    /// Marks a leaf as needing a gradient (parameters, or inputs for guidance and attacks).
    tensor& set_requires_grad(bool required = true);
    /// The accumulated gradient of a leaf (undefined before backward).
    tensor grad() const;
    void set_grad(const tensor& grad);
    /// Drops the gradient (it becomes undefined, as PyTorch's zero_grad(set_to_none=True)).
    void zero_grad();
    const std::shared_ptr<grad_node>& grad_fn() const;
    void set_grad_fn(std::shared_ptr<grad_node> node);
    /// Backpropagates from a one-element tensor (seed 1) into every leaf that requires grad.
    void backward() const;
    /// Backpropagates with the given gradient of this tensor.
    void backward(const tensor& grad_output) const;

private:
    explicit tensor(std::shared_ptr<tensor_impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<tensor_impl> impl_;
    friend struct tensor_access;
};

/// Multi-line text of a tensor (shape, dtype, layout, values elided past 6 per row).
std::string to_string(const tensor& t);

}  // namespace difflab

/// fmt::format("{}", t) prints to_string(t).
template <>
struct fmt::formatter<difflab::tensor> : fmt::formatter<std::string_view> {
    template <class Context>
    auto format(const difflab::tensor& t, Context& context) const {
        const std::string text = difflab::to_string(t);
        return fmt::formatter<std::string_view>::format(std::string_view(text), context);
    }
};
