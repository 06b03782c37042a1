// SPDX-License-Identifier: Apache-2.0
// Reductions (oneDNN reduction primitive), concatenation and splitting.
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "ops_common.h"
#include "strided.h"
#include "tensor_impl.h"
#include "vector_clones.h"

namespace difflab {

using namespace ops_detail;

namespace {

struct reduction_primitive {
    dnnl::reduction primitive;
};

/// Below this many elements a serial loop beats waking oneDNN's threads.
constexpr std::int64_t small_size = 4096;

/// Sums `a` into `keep_shape` (reduced dims of size 1) in double, in a fixed order.
tensor serial_reduce(const tensor& a, const shape_t& keep_shape, double scale) {
    const shape_t& shape = a.shape();
    const shape_t& strides = a.strides();
    const std::size_t dims = shape.size();
    shape_t out_strides(dims, 0);
    std::int64_t step = 1;
    for (std::size_t d = dims; d-- > 0;) {
        out_strides[d] = keep_shape[d] == 1 ? 0 : step;
        step *= keep_shape[d];
    }
    std::vector<double> totals(static_cast<std::size_t>(shape_numel(keep_shape)), 0.0);
    std::vector<std::int64_t> index(dims, 0);
    const void* in = a.raw_data();
    const std::int64_t numel = a.numel();
    for (std::int64_t e = 0; e < numel; ++e) {
        std::int64_t in_off = 0, out_off = 0;
        for (std::size_t d = 0; d < dims; ++d) {
            in_off += index[d] * strides[d];
            out_off += index[d] * out_strides[d];
        }
        totals[static_cast<std::size_t>(out_off)] += strided::load(in, a.type(), in_off);
        for (std::size_t d = dims; d-- > 0;) {
            if (++index[d] < shape[d]) break;
            index[d] = 0;
        }
    }
    tensor result = tensor::empty(keep_shape, a.type());
    for (std::size_t i = 0; i < totals.size(); ++i)
        strided::store(result.raw_data(), a.type(), static_cast<std::int64_t>(i),
                       static_cast<float>(totals[i] * scale));
    return result;
}

/// Outputs up to this size reduce through per-chunk partial sums (bias gradients, per-channel
/// statistics, whole-tensor sums); larger ones go to oneDNN.
constexpr std::int64_t chunked_max_output = 1 << 16;
/// A fixed chunk count, so partial sums (and rounding) do not depend on the thread count.
constexpr std::int64_t chunks = 32;

/// Adds a row of n values, x[e*si], into y[e*so]: one total when so is 0 (a reduced row),
/// else elementwise (rows of a kept dim). Called inside the OpenMP loop below, as clones
/// cannot hold one (vector_clones.h).
DIFFLAB_VECTOR_CLONES void reduce_row(const float* __restrict x, float* __restrict y, std::int64_t n, std::int64_t si,
                                      std::int64_t so) {
    if (so == 0) {
        // Sixteen running sums break the dependency chain so the loop vectorizes.
        float lanes[16] = {};
        std::int64_t e = 0;
        if (si == 1)
            for (; e + 16 <= n; e += 16)
                for (int k = 0; k < 16; ++k) lanes[k] += x[e + k];
        float total = 0;
        for (; e < n; ++e) total += x[e * si];
        for (float lane : lanes) total += lane;
        *y += total;
    } else if (si == 1 && so == 1) {
        for (std::int64_t e = 0; e < n; ++e) y[e] += x[e];
    } else {
        for (std::int64_t e = 0; e < n; ++e) y[e * so] += x[e * si];
    }
}

/// Sums f32 `a` into a row-major `keep_shape` tensor: the input is walked in its memory
/// order, rows split into fixed chunks with one partial result each, then the partials are
/// added in chunk order. oneDNN 2.6's reduction takes a slow reference path for most
/// layouts (100+ ms on a 64x64x28x28 channels-last tensor); this streams memory once.
tensor chunked_reduce(const tensor& a, const std::vector<bool>& reduced, const shape_t& keep_shape, float scale) {
    const shape_t keep_strides = contiguous_strides(keep_shape);
    shape_t out_strides(keep_shape.size(), 0);
    for (std::size_t d = 0; d < keep_shape.size(); ++d) out_strides[d] = reduced[d] ? 0 : keep_strides[d];
    const strided::row_plan<2> plan = strided::plan_rows<2>(a.shape(), {&a.strides(), &out_strides});
    const std::int64_t out_numel = shape_numel(keep_shape);
    // Long rows (a whole-tensor sum is one row) split into segments, so that chunks exist
    // to spread over threads.
    const std::int64_t segment = 1 << 14;
    const std::int64_t segments = (plan.inner + segment - 1) / segment;
    const std::int64_t units = plan.rows * segments;
    const std::int64_t parts = std::min(chunks, units);
    std::vector<float> partial(static_cast<std::size_t>(parts * out_numel), 0.0f);
    const float* in = static_cast<const float*>(a.raw_data());
    const std::int64_t si = plan.inner_strides[0], so = plan.inner_strides[1];
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < parts; ++c) {
        float* acc = partial.data() + c * out_numel;
        const std::int64_t first = units * c / parts, last = units * (c + 1) / parts;
        for (std::int64_t unit = first; unit < last; ++unit) {
            const std::int64_t row = unit / segments, begin = (unit % segments) * segment;
            const std::int64_t n = std::min(segment, plan.inner - begin);
            const auto off = strided::row_offsets<2>(plan, row);
            reduce_row(in + off[0] + begin * si, acc + off[1] + begin * so, n, si, so);
        }
    }
    tensor result = tensor::empty(keep_shape);
    float* out = result.data<float>();
#pragma omp parallel for schedule(static) if (out_numel > 4096)
    for (std::int64_t j = 0; j < out_numel; ++j) {
        float total = 0;
        for (std::int64_t c = 0; c < parts; ++c) total += partial[static_cast<std::size_t>(c * out_numel + j)];
        out[j] = total * scale;
    }
    return result;
}

tensor reduce(const char* name, const tensor& a, const std::vector<std::int64_t>& dims, bool keepdim, bool average) {
    if (!a.defined()) fail(name, "the input is undefined");
    const std::int64_t rank = a.dim();
    std::vector<bool> reduced(static_cast<std::size_t>(rank), dims.empty());
    for (std::int64_t d : dims) {
        const std::size_t w = static_cast<std::size_t>(wrap_dim(d, rank, name));
        if (reduced[w]) fail(name, fmt::format("dimension {} is listed twice", d));
        reduced[w] = true;
    }
    shape_t keep_shape = a.shape(), out_shape;
    std::int64_t count = 1;
    for (std::size_t d = 0; d < reduced.size(); ++d) {
        if (reduced[d]) {
            count *= keep_shape[d];
            keep_shape[d] = 1;
        }
        if (!reduced[d] || keepdim) out_shape.push_back(keep_shape[d]);
    }
    tensor result;
    if (a.numel() == 0) {
        result = tensor::full(keep_shape, average ? std::numeric_limits<float>::quiet_NaN() : 0.0f, a.type());
    } else if (count == 1) {
        no_grad_guard guard;
        result = a.clone().reshape(keep_shape);
    } else if (a.numel() <= small_size) {
        result = serial_reduce(a, keep_shape, average ? 1.0 / static_cast<double>(count) : 1.0);
    } else if (a.type() == dtype::f32 && shape_numel(keep_shape) <= chunked_max_output) {
        result = chunked_reduce(a, reduced, keep_shape, average ? 1.0f / static_cast<float>(count) : 1.0f);
    } else {
        const tensor x = dense(a);
        result = tensor::empty(keep_shape, x.type());
        const auto alg = average ? dnnl::algorithm::reduction_mean : dnnl::algorithm::reduction_sum;
        dnnl_glue::checked(name, {x}, [&] {
            auto prim = dnnl_glue::cached<reduction_primitive>(
                dnnl_glue::key_of("reduction", {x, result}, average ? "mean" : "sum"), [&] {
                    dnnl::reduction::desc desc(alg, dnnl_glue::desc_of(x), dnnl_glue::desc_of(result), 0.0f, 0.0f);
                    return reduction_primitive{
                        dnnl::reduction(dnnl::reduction::primitive_desc(desc, dnnl_glue::engine()))};
                });
            execute(prim->primitive,
                    {{DNNL_ARG_SRC, dnnl_glue::memory_of(x)}, {DNNL_ARG_DST, dnnl_glue::memory_of(result)}});
        });
    }
    result = result.reshape(out_shape);
    const shape_t in_shape = a.shape();
    const float scale = average ? 1.0f / static_cast<float>(std::max<std::int64_t>(count, 1)) : 1.0f;
    record(result, name, {a}, [in_shape, keep_shape, scale](const tensor& grad) {
        tensor g = grad.reshape(keep_shape);
        if (scale != 1.0f) g = mul(g, scale);
        return std::vector<tensor>{g.expand(in_shape)};
    });
    return result;
}

}  // namespace

tensor sum(const tensor& a, const std::vector<std::int64_t>& dims, bool keepdim) {
    return reduce("sum", a, dims, keepdim, false);
}

tensor mean(const tensor& a, const std::vector<std::int64_t>& dims, bool keepdim) {
    return reduce("mean", a, dims, keepdim, true);
}

tensor concat(const std::vector<tensor>& parts, std::int64_t d) {
    if (parts.empty()) fail("concat", "no tensors to join");
    for (const tensor& p : parts)
        if (!p.defined()) fail("concat", "a part is undefined");
    const tensor& first = parts.front();
    const std::size_t dim = static_cast<std::size_t>(wrap_dim(d, first.dim(), "concat"));
    shape_t shape = first.shape();
    shape[dim] = 0;
    bool channels_last = first.dim() >= 4;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const tensor& p = parts[i];
        bool same = p.dim() == first.dim() && p.type() == first.type();
        for (std::size_t k = 0; same && k < shape.size(); ++k) same = k == dim || p.shape()[k] == first.shape()[k];
        if (!same)
            fail("concat", fmt::format("part {} is {} {} but part 0 is {} {}; all parts need the same dtype and sizes "
                                       "except in dimension {}",
                                       i, dtype_name(p.type()), shape_text(p.shape()), dtype_name(first.type()),
                                       shape_text(first.shape()), d));
        shape[dim] += p.shape()[dim];
        channels_last = channels_last && p.is_channels_last();
    }
    // Skip connections in a channels-last network join along C: keep the result channels-last.
    tensor out = channels_last ? tensor::empty_channels_last(shape, first.type()) : tensor::empty(shape, first.type());
    std::vector<std::int64_t> sizes;
    {
        no_grad_guard guard;
        std::int64_t at = 0;
        for (const tensor& p : parts) {
            const std::int64_t n = p.shape()[dim];
            out.slice(static_cast<std::int64_t>(dim), at, at + n).copy_(p);
            sizes.push_back(n);
            at += n;
        }
    }
    record(out, "concat", parts, [sizes, dim](const tensor& grad) {
        std::vector<tensor> grads;
        std::int64_t at = 0;
        for (std::int64_t n : sizes) {
            grads.push_back(grad.slice(static_cast<std::int64_t>(dim), at, at + n));
            at += n;
        }
        return grads;
    });
    return out;
}

std::vector<tensor> split(const tensor& a, const std::vector<std::int64_t>& sizes, std::int64_t d) {
    if (!a.defined()) fail("split", "the input is undefined");
    const std::int64_t dim = wrap_dim(d, a.dim(), "split");
    std::int64_t total = 0;
    for (std::int64_t n : sizes) {
        if (n < 0) fail("split", fmt::format("size {} is negative", n));
        total += n;
    }
    if (total != a.size(dim))
        fail("split", fmt::format("sizes {} add up to {} but dimension {} of {} has {}", shape_text(sizes), total, d,
                                  shape_text(a.shape()), a.size(dim)));
    std::vector<tensor> parts;
    std::int64_t at = 0;
    for (std::int64_t n : sizes) {
        parts.push_back(a.slice(dim, at, at + n));
        at += n;
    }
    return parts;
}

}  // namespace difflab
