// SPDX-License-Identifier: Apache-2.0
// linear and matmul (batch broadcasting) on the oneDNN matmul primitive.
#include "nn_matmul.h"

#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/precision.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "nn_common.h"

namespace difflab {
namespace nn_detail {
namespace {

using dnnl::memory;

struct matmul_entry {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul primitive;
};

/// The descriptor of `t` seen with `rank` dims (leading ones added). Broadcast (stride 0)
/// dims and views whose last two dims are neither row- nor column-major are not readable
/// by the matmul kernels: those answer false.
bool matrix_desc(const tensor& t, std::size_t rank, memory::desc& desc) {
    const shape_t& shape = t.shape();
    const shape_t& strides = t.strides();
    const std::size_t lead = rank - shape.size();
    memory::dims dims(rank, 1), steps(rank, 0);
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (strides[i] == 0 && shape[i] > 1) return false;
        dims[lead + i] = shape[i];
        steps[lead + i] = shape[i] == 1 ? 0 : strides[i];
    }
    const std::int64_t rows = dims[rank - 2], cols = dims[rank - 1];
    std::int64_t& row_step = steps[rank - 2];
    std::int64_t& col_step = steps[rank - 1];
    if (cols == 1) col_step = 1;
    if (rows == 1) row_step = col_step == 1 ? cols : 1;
    if (col_step != 1 && row_step != 1) return false;
    // Unit dims get the stride a dense layout would give them, which keeps descriptors equal
    // for equal layouts and satisfies oneDNN's check that strides do not overlap.
    std::int64_t extent = std::max(rows * row_step, cols * col_step);
    for (std::size_t i = rank - 2; i-- > 0;) {
        if (steps[i] == 0) steps[i] = extent;
        extent = std::max(extent, steps[i] * dims[i]);
    }
    desc = memory::desc(dims, dnnl_glue::data_type_of(t.type()), steps);
    return true;
}

std::shared_ptr<matmul_entry> matmul_primitive(const memory::desc& a, const memory::desc& b, const memory::desc& bias,
                                               const memory::desc& dst, float alpha) {
    const std::string key = "matmul|" + text_of(a) + "|" + text_of(b) + "|" + text_of(bias) + "|" + text_of(dst) +
                            fmt::format("|{}", alpha);
    return dnnl_glue::cached<matmul_entry>(key, [&] {
        dnnl::primitive_attr attr;
        if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
        const dnnl::matmul::desc desc =
            bias.data.ndims == 0 ? dnnl::matmul::desc(a, b, dst) : dnnl::matmul::desc(a, b, bias, dst);
        dnnl::matmul::primitive_desc pd(desc, attr, dnnl_glue::engine());
        return matmul_entry{pd, dnnl::matmul(pd)};
    });
}

/// `t` in bf16, converted in the order its memory is in: a transposed or head-split view of
/// dense memory (attention's k^T, linear's weight and gradient transposes) is converted in one
/// vectorized pass over that memory and viewed back with the same permutation, where to()
/// would gather it element by element into row-major order.
tensor bf16_in_memory_order(const tensor& t) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(t.dim()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
        return t.strides()[static_cast<std::size_t>(x)] > t.strides()[static_cast<std::size_t>(y)];
    });
    const tensor in_order = t.permute(order);
    if (!in_order.is_contiguous()) return t.to(dtype::bf16);
    std::vector<std::int64_t> inverse(order.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        inverse[static_cast<std::size_t>(order[i])] = static_cast<std::int64_t>(i);
    return in_order.to(dtype::bf16).permute(inverse);
}

bool reference_kernel(const matmul_entry& entry) {
    const char* name = entry.pd.impl_info_str();
    return name != nullptr && std::strncmp(name, "ref", 3) == 0;
}

}  // namespace

tensor matmul_raw(const tensor& a_in, const tensor& b_in, const tensor& bias, float alpha) {
    const char* op = "matmul";
    if (a_in.dim() < 2 || b_in.dim() < 2)
        fail(op, fmt::format("operands must have at least 2 dims, got {} and {}; unsqueeze vectors to matrices",
                             shape_text(a_in.shape()), shape_text(b_in.shape())));
    if (a_in.size(-1) != b_in.size(-2))
        fail(op, fmt::format("cannot multiply {} by {}: inner sizes {} and {} differ", shape_text(a_in.shape()),
                             shape_text(b_in.shape()), a_in.size(-1), b_in.size(-2)));
    if (a_in.type() != b_in.type())
        fail(op, fmt::format("operands are {} and {}; convert one with to()", dtype_name(a_in.type()),
                             dtype_name(b_in.type())));
    const std::size_t rank = static_cast<std::size_t>(std::max(a_in.dim(), b_in.dim()));
    shape_t out_shape(rank);
    for (std::size_t i = 0; i + 2 < rank; ++i) {
        const auto pick = [&](const tensor& t) {
            const std::int64_t d = static_cast<std::int64_t>(i) - static_cast<std::int64_t>(rank) + t.dim();
            return d < 0 ? std::int64_t{1} : t.size(d);
        };
        const std::int64_t x = pick(a_in), y = pick(b_in);
        if (x != y && x != 1 && y != 1)
            fail(op, fmt::format("batch dims of {} and {} do not broadcast", shape_text(a_in.shape()),
                                 shape_text(b_in.shape())));
        out_shape[i] = std::max(x, y);
    }
    out_shape[rank - 2] = a_in.size(-2);
    out_shape[rank - 1] = b_in.size(-1);
    tensor out = tensor::empty(out_shape, a_in.type());
    if (out.numel() == 0) return out;

    dnnl_glue::checked(op, {a_in, b_in, bias}, [&] {
        // Under a bf16 compute precision (precision.h) f32 operands are multiplied in bf16
        // into the f32 output.
        const bool rounded = a_in.type() == dtype::f32 && compute_precision() == dtype::bf16;
        tensor a = rounded ? bf16_in_memory_order(a_in.detach()) : a_in,
               b = rounded ? bf16_in_memory_order(b_in.detach()) : b_in;
        memory::desc a_desc, b_desc, bias_desc;
        const memory::desc dst_desc = plain_desc(out_shape, out.type());
        if (bias.defined()) {
            shape_t bias_shape(rank, 1);
            bias_shape[rank - 1] = bias.numel();
            bias_desc = plain_desc(bias_shape, bias.type());
        }
        bool direct = matrix_desc(a, rank, a_desc) && matrix_desc(b, rank, b_desc);
        std::shared_ptr<matmul_entry> entry;
        if (direct) {
            entry = matmul_primitive(a_desc, b_desc, bias_desc, dst_desc, alpha);
            // Odd strides can land on the reference kernel, far slower than copying first.
            if (reference_kernel(*entry) && !(a.is_contiguous() && b.is_contiguous())) direct = false;
        }
        if (!direct) {
            a = dense(a, false);
            b = dense(b, false);
            matrix_desc(a, rank, a_desc);
            matrix_desc(b, rank, b_desc);
            entry = matmul_primitive(a_desc, b_desc, bias_desc, dst_desc, alpha);
        }
        dnnl_args args{{DNNL_ARG_SRC, dnnl_glue::memory_of(a, a_desc)},
                       {DNNL_ARG_WEIGHTS, dnnl_glue::memory_of(b, b_desc)},
                       {DNNL_ARG_DST, dnnl_glue::memory_of(out, dst_desc)}};
        if (bias.defined()) args[DNNL_ARG_BIAS] = dnnl_glue::memory_of(bias, bias_desc);
        execute(entry->primitive, args);
    });
    return out;
}

tensor scaled_matmul(const tensor& a, const tensor& b, float alpha) {
    tensor out = matmul_raw(a.detach(), b.detach(), tensor(), alpha);
    record_op(out, "matmul", {a, b}, [a, b, alpha](const tensor& grad_output) {
        const tensor ad = a.detach(), bd = b.detach();
        tensor grad_a, grad_b;
        if (wants_grad(a))
            grad_a = reduce_sum_to(matmul_raw(grad_output, bd.transpose(-2, -1), tensor(), alpha), a.shape());
        if (wants_grad(b))
            grad_b = reduce_sum_to(matmul_raw(ad.transpose(-2, -1), grad_output, tensor(), alpha), b.shape());
        return std::vector<tensor>{grad_a, grad_b};
    });
    return out;
}

}  // namespace nn_detail

tensor matmul(const tensor& a, const tensor& b) {
    return nn_detail::scaled_matmul(a, b, 1.0f);
}

tensor linear(const tensor& x, const tensor& weight, const tensor& bias) {
    using nn_detail::fail;
    if (!x.defined() || !weight.defined()) fail("linear", "input and weight must be defined tensors");
    if (weight.dim() != 2 || x.dim() < 1 || x.size(-1) != weight.size(1))
        fail("linear", fmt::format("input {} does not fit weight {}; the weight must be [out, {}]",
                                   shape_text(x.shape()), shape_text(weight.shape()), x.dim() < 1 ? 0 : x.size(-1)));
    const std::int64_t in = weight.size(1), out_features = weight.size(0);
    if (bias.defined() && bias.shape() != shape_t{out_features})
        fail("linear", fmt::format("bias must be [{}], got {}", out_features, shape_text(bias.shape())));
    shape_t out_shape = x.shape();
    out_shape.back() = out_features;
    // [..., in] as one [M, in] matrix: a single large product instead of a batch of small ones.
    const tensor x2 = nn_detail::dense(x.detach(), false).view({-1, in});
    const tensor w = weight.detach();
    tensor out =
        nn_detail::matmul_raw(x2, w.transpose(0, 1), bias.defined() ? bias.detach() : tensor()).view(out_shape);
    nn_detail::record_op(out, "linear", {x, weight, bias},
                         [x, x2, w, weight, bias, out_features](const tensor& grad_output) {
                             const tensor g2 = nn_detail::dense(grad_output, false).view({-1, out_features});
                             tensor grad_x, grad_w, grad_b;
                             if (nn_detail::wants_grad(x)) grad_x = nn_detail::matmul_raw(g2, w).view(x.shape());
                             if (nn_detail::wants_grad(weight)) grad_w = nn_detail::matmul_raw(g2.transpose(0, 1), x2);
                             if (nn_detail::wants_grad(bias)) grad_b = nn_detail::reduce_sum_to(g2, {out_features});
                             return std::vector<tensor>{grad_x, grad_w, grad_b};
                         });
    return out;
}

}  // namespace difflab
