// SPDX-License-Identifier: Apache-2.0
// interpolate (nearest, bilinear; up and down) on the oneDNN resampling primitive.
#include <difflab/tensor/nn_ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "nn_common.h"

namespace difflab {
namespace {

using namespace nn_detail;
using dnnl::memory;

struct resample_entry {
    dnnl::resampling_forward::primitive_desc pd;
    dnnl::resampling_forward primitive;
};

/// PyTorch's "nearest" source rows: floor(dst * in / out) in float, as ATen computes it.
std::vector<std::int64_t> torch_nearest(std::int64_t in, std::int64_t out) {
    std::vector<std::int64_t> index(static_cast<std::size_t>(out));
    const float scale = static_cast<float>(in) / static_cast<float>(out);
    for (std::int64_t d = 0; d < out; ++d)
        index[static_cast<std::size_t>(d)] =
            std::min(static_cast<std::int64_t>(std::floor(static_cast<float>(d) * scale)), in - 1);
    return index;
}

/// oneDNN's nearest source rows: round((dst + 0.5) * in / out - 0.5), the half-pixel rule
/// (PyTorch's "nearest-exact"). It agrees with PyTorch's "nearest" for integer upsampling
/// but not, for instance, for 2x downsampling (rows 1, 3, ... instead of 0, 2, ...).
std::vector<std::int64_t> dnnl_nearest(std::int64_t in, std::int64_t out) {
    std::vector<std::int64_t> index(static_cast<std::size_t>(out));
    for (std::int64_t d = 0; d < out; ++d) {
        const float source = (static_cast<float>(d) + 0.5f) * static_cast<float>(in) / static_cast<float>(out) - 0.5f;
        index[static_cast<std::size_t>(d)] = std::clamp<std::int64_t>(std::lround(source), 0, in - 1);
    }
    return index;
}

/// Nearest resampling by explicit source indices where oneDNN's rule differs from PyTorch's:
/// a gather forward, a scatter-add backward (each (n, c) plane by one thread).
tensor gather_nearest(const tensor& x, const tensor& xd, const shape_t& out_shape, bool channels_last,
                      const std::vector<std::int64_t>& rows, const std::vector<std::int64_t>& cols) {
    const tensor src = xd.type() == dtype::f32 ? xd : dense(xd.to(dtype::f32), channels_last);
    tensor out = empty_dense(out_shape, dtype::f32, channels_last);
    const std::int64_t planes = out_shape[0] * out_shape[1], height = out_shape[2], width = out_shape[3];
    const std::int64_t channels = out_shape[1];
    {
        const float* in = src.data<float>();
        float* o = out.data<float>();
        const shape_t& is = src.strides();
        const shape_t& os = out.strides();
#pragma omp parallel for
        for (std::int64_t p = 0; p < planes; ++p) {
            const std::int64_t n = p / channels, c = p % channels;
            for (std::int64_t i = 0; i < height; ++i)
                for (std::int64_t j = 0; j < width; ++j)
                    o[n * os[0] + c * os[1] + i * os[2] + j * os[3]] =
                        in[n * is[0] + c * is[1] + rows[static_cast<std::size_t>(i)] * is[2] +
                           cols[static_cast<std::size_t>(j)] * is[3]];
        }
    }
    if (x.type() != dtype::f32) out = dense(out.to(x.type()), channels_last);
    // The backward needs the input's shape and dtype, not its data: capturing x would keep it alive.
    const shape_t x_shape = x.shape();
    const dtype x_type = x.type();
    record_op(out, "interpolate", {x}, [=](const tensor& grad_output) {
        const tensor g =
            dense(grad_output.type() == dtype::f32 ? grad_output : grad_output.to(dtype::f32), channels_last);
        tensor grad_x = empty_dense(x_shape, dtype::f32, channels_last);
        grad_x.fill_(0.0f);
        const float* gi = g.data<float>();
        float* gx = grad_x.data<float>();
        const shape_t& gs = g.strides();
        const shape_t& xs = grad_x.strides();
#pragma omp parallel for
        for (std::int64_t p = 0; p < planes; ++p) {
            const std::int64_t n = p / channels, c = p % channels;
            for (std::int64_t i = 0; i < height; ++i)
                for (std::int64_t j = 0; j < width; ++j)
                    gx[n * xs[0] + c * xs[1] + rows[static_cast<std::size_t>(i)] * xs[2] +
                       cols[static_cast<std::size_t>(j)] * xs[3]] += gi[n * gs[0] + c * gs[1] + i * gs[2] + j * gs[3]];
        }
        return std::vector<tensor>{x_type == dtype::f32 ? grad_x : dense(grad_x.to(x_type), channels_last)};
    });
    return out;
}

}  // namespace

tensor interpolate(const tensor& x, std::array<std::int64_t, 2> size, const std::string& mode) {
    const char* op = "interpolate";
    if (!x.defined() || x.dim() != 4) fail(op, "input must be [N, C, H, W]");
    if (size[0] < 1 || size[1] < 1) fail(op, fmt::format("output size {}x{} must be positive", size[0], size[1]));
    dnnl::algorithm alg;
    if (mode == "nearest")
        alg = dnnl::algorithm::resampling_nearest;
    else if (mode == "bilinear")
        alg = dnnl::algorithm::resampling_linear;
    else
        fail(op, fmt::format("unknown mode '{}'; use 'nearest' or 'bilinear'", mode));
    const tensor xd = dense_any(x.detach());
    const bool channels_last = !xd.is_contiguous();
    const shape_t out_shape{x.size(0), x.size(1), size[0], size[1]};
    if (mode == "nearest") {
        const auto rows = torch_nearest(x.size(2), size[0]), cols = torch_nearest(x.size(3), size[1]);
        if (rows != dnnl_nearest(x.size(2), size[0]) || cols != dnnl_nearest(x.size(3), size[1]))
            return gather_nearest(x, xd, out_shape, channels_last, rows, cols);
    }
    tensor out = empty_dense(out_shape, x.type(), channels_last);
    if (out.numel() == 0) return out;
    const memory::desc src = dnnl_glue::desc_of(xd), dst = dnnl_glue::desc_of(out);
    const std::string key = fmt::format("{}|{}|{}|{}", op, mode, text_of(src), text_of(dst));
    std::shared_ptr<resample_entry> entry;
    dnnl_glue::checked(op, {x}, [&] {
        entry = dnnl_glue::cached<resample_entry>(key, [&] {
            dnnl::resampling_forward::desc desc(dnnl::prop_kind::forward_training, alg, src, dst);
            dnnl::resampling_forward::primitive_desc pd(desc, dnnl_glue::engine());
            return resample_entry{pd, dnnl::resampling_forward(pd)};
        });
        execute(entry->primitive,
                {{DNNL_ARG_SRC, dnnl_glue::memory_of(xd, src)}, {DNNL_ARG_DST, dnnl_glue::memory_of(out, dst)}});
    });
    // The backward needs the input's shape and dtype, not its data: capturing x would keep it alive.
    const shape_t x_shape = x.shape();
    const dtype x_type = x.type();
    record_op(out, op, {x}, [=](const tensor& grad_output) {
        tensor grad_x = empty_dense(x_shape, x_type, channels_last);
        dnnl_glue::checked(op, {grad_output, grad_x}, [&] {
            auto backward = dnnl_glue::cached<dnnl::resampling_backward>(key + "|bwd", [&] {
                dnnl::resampling_backward::desc desc(alg, src, dst);
                return dnnl::resampling_backward(
                    dnnl::resampling_backward::primitive_desc(desc, dnnl_glue::engine(), entry->pd));
            });
            work_buffers work;
            execute(*backward, {{DNNL_ARG_DIFF_DST, work.converted(dnnl_glue::memory_of(grad_output), dst)},
                                {DNNL_ARG_DIFF_SRC, dnnl_glue::memory_of(grad_x, src)}});
        });
        return std::vector<tensor>{grad_x};
    });
    return out;
}

}  // namespace difflab
