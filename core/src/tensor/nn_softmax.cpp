// SPDX-License-Identifier: Apache-2.0
// softmax and log_softmax on the oneDNN softmax and logsoftmax primitives.
#include <difflab/tensor/nn_ops.h>
#include <fmt/format.h>

#include "nn_common.h"

namespace difflab {
namespace {

using namespace nn_detail;
using dnnl::memory;

template <class Forward>
struct softmax_entry {
    typename Forward::primitive_desc forward_pd;  // the hint the backward primitive needs
    Forward forward;
};

template <class Forward, class Backward>
tensor softmax_like(const char* op, const tensor& x, std::int64_t d) {
    if (!x.defined() || x.dim() < 1) fail(op, "input must be a tensor with at least one dimension");
    if (d < -x.dim() || d >= x.dim())
        fail(op, fmt::format("dimension {} is out of range for {}", d, shape_text(x.shape())));
    const int axis = static_cast<int>(d < 0 ? d + x.dim() : d);
    // Row-major or channels-last in, the same layout out.
    const tensor xd = dense_any(x.detach());
    const bool channels_last = !xd.is_contiguous();
    tensor out = empty_dense(x.shape(), x.type(), channels_last);
    if (out.numel() == 0) return out;
    const memory::desc data = dnnl_glue::desc_of(xd);
    using entries = softmax_entry<Forward>;
    const std::string key = fmt::format("{}|{}|{}", op, text_of(data), axis);
    std::shared_ptr<entries> entry;
    dnnl_glue::checked(op, {x}, [&] {
        entry = dnnl_glue::cached<entries>(key, [&] {
            typename Forward::desc desc(dnnl::prop_kind::forward_training, data, axis);
            typename Forward::primitive_desc pd(desc, dnnl_glue::engine());
            return entries{pd, Forward(pd)};
        });
        execute(entry->forward,
                {{DNNL_ARG_SRC, dnnl_glue::memory_of(xd, data)}, {DNNL_ARG_DST, dnnl_glue::memory_of(out, data)}});
    });
    const tensor result = out.detach();
    // The backward reads the output, not x: capturing x would keep its data alive.
    record_op(out, op, {x}, [=](const tensor& grad_output) {
        tensor grad_x = empty_dense(result.shape(), result.type(), channels_last);
        const tensor g = dense(grad_output, channels_last);
        dnnl_glue::checked(op, {grad_output, result}, [&] {
            auto backward = dnnl_glue::cached<Backward>(key + "|bwd", [&] {
                typename Backward::desc desc(data, data, axis);
                typename Backward::primitive_desc pd(desc, dnnl_glue::engine(), entry->forward_pd);
                return Backward(pd);
            });
            work_buffers work;
            execute(*backward, {{DNNL_ARG_DST, dnnl_glue::memory_of(result, data)},
                                {DNNL_ARG_DIFF_DST, work.converted(dnnl_glue::memory_of(g), data)},
                                {DNNL_ARG_DIFF_SRC, dnnl_glue::memory_of(grad_x, data)}});
        });
        return std::vector<tensor>{grad_x};
    });
    return out;
}

}  // namespace

tensor softmax(const tensor& x, std::int64_t d) {
    return softmax_like<dnnl::softmax_forward, dnnl::softmax_backward>("softmax", x, d);
}

tensor log_softmax(const tensor& x, std::int64_t d) {
    return softmax_like<dnnl::logsoftmax_forward, dnnl::logsoftmax_backward>("log_softmax", x, d);
}

}  // namespace difflab
