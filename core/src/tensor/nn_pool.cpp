// SPDX-License-Identifier: Apache-2.0
// avg_pool2d and max_pool2d on the oneDNN pooling primitive.
#include <difflab/tensor/nn_ops.h>
#include <fmt/format.h>

#include "nn_common.h"

namespace difflab {
namespace {

using namespace nn_detail;
using dnnl::memory;

struct pool_entry {
    dnnl::pooling_forward::primitive_desc pd;
    dnnl::pooling_forward primitive;
};

tensor pool2d(const char* op, dnnl::algorithm alg, const tensor& x, std::int64_t kernel, std::int64_t stride) {
    if (!x.defined() || x.dim() != 4) fail(op, "input must be [N, C, H, W]");
    if (kernel < 1 || stride < 1) fail(op, fmt::format("kernel ({}) and stride ({}) must be >= 1", kernel, stride));
    if (x.size(2) < kernel || x.size(3) < kernel)
        fail(op, fmt::format("kernel {} is larger than the input {}", kernel, shape_text(x.shape())));
    const shape_t out_shape{x.size(0), x.size(1), (x.size(2) - kernel) / stride + 1, (x.size(3) - kernel) / stride + 1};
    const tensor xd = dense_any(x.detach());
    const bool channels_last = !xd.is_contiguous();
    tensor out = empty_dense(out_shape, x.type(), channels_last);
    if (out.numel() == 0) return out;
    const bool training = will_record({x});
    const memory::desc src = dnnl_glue::desc_of(xd), dst = dnnl_glue::desc_of(out);
    const memory::dims strides{stride, stride}, kernels{kernel, kernel}, padding{0, 0};
    const std::string key = fmt::format("{}|{}|{}|{}|{}", op, text_of(src), text_of(dst), kernel, stride);
    std::shared_ptr<pool_entry> entry;
    memory workspace;
    dnnl_glue::checked(op, {x}, [&] {
        entry = dnnl_glue::cached<pool_entry>(key + (training ? "|train" : "|infer"), [&] {
            const auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
            dnnl::pooling_forward::desc desc(prop, alg, src, dst, strides, kernels, padding, padding);
            dnnl::pooling_forward::primitive_desc pd(desc, dnnl_glue::engine());
            return pool_entry{pd, dnnl::pooling_forward(pd)};
        });
        dnnl_args args{{DNNL_ARG_SRC, dnnl_glue::memory_of(xd, src)}, {DNNL_ARG_DST, dnnl_glue::memory_of(out, dst)}};
        // Max pooling remembers where each maximum was, for backward.
        if (training && alg == dnnl::algorithm::pooling_max) {
            workspace = memory(entry->pd.workspace_desc(), dnnl_glue::engine());
            args[DNNL_ARG_WORKSPACE] = workspace;
        }
        execute(entry->primitive, args);
    });
    // The backward needs the input's shape and dtype, not its data: capturing x would keep it alive.
    const shape_t x_shape = x.shape();
    const dtype x_type = x.type();
    record_op(out, op, {x}, [=](const tensor& grad_output) {
        tensor grad_x = empty_dense(x_shape, x_type, channels_last);
        dnnl_glue::checked(op, {grad_output, grad_x}, [&] {
            auto backward = dnnl_glue::cached<dnnl::pooling_backward>(key + "|bwd", [&] {
                dnnl::pooling_backward::desc desc(alg, src, dst, strides, kernels, padding, padding);
                return dnnl::pooling_backward(
                    dnnl::pooling_backward::primitive_desc(desc, dnnl_glue::engine(), entry->pd));
            });
            work_buffers work;
            dnnl_args args{{DNNL_ARG_DIFF_DST, work.converted(dnnl_glue::memory_of(grad_output), dst)},
                           {DNNL_ARG_DIFF_SRC, dnnl_glue::memory_of(grad_x, src)}};
            if (alg == dnnl::algorithm::pooling_max) args[DNNL_ARG_WORKSPACE] = workspace;
            execute(*backward, args);
        });
        return std::vector<tensor>{grad_x};
    });
    return out;
}

}  // namespace

tensor avg_pool2d(const tensor& x, std::int64_t kernel, std::int64_t stride) {
    return pool2d("avg_pool2d", dnnl::algorithm::pooling_avg_exclude_padding, x, kernel, stride);
}

tensor max_pool2d(const tensor& x, std::int64_t kernel, std::int64_t stride) {
    return pool2d("max_pool2d", dnnl::algorithm::pooling_max, x, kernel, stride);
}

}  // namespace difflab
