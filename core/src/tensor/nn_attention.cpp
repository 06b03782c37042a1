// SPDX-License-Identifier: Apache-2.0
// Multi-head scaled dot-product attention as one recorded op on oneDNN matmul and softmax.
#include <difflab/tensor/nn_ops.h>
#include <fmt/format.h>

#include <cmath>

#include "nn_common.h"
#include "nn_matmul.h"

namespace difflab {
namespace {

using namespace nn_detail;
using dnnl::memory;

struct row_softmax_entry {
    dnnl::softmax_forward::primitive_desc pd;
    dnnl::softmax_forward forward;
    dnnl::softmax_backward backward;
};

std::shared_ptr<row_softmax_entry> row_softmax(const memory::desc& data) {
    const int axis = data.data.ndims - 1;
    return dnnl_glue::cached<row_softmax_entry>("attention_softmax|" + text_of(data), [&] {
        dnnl::softmax_forward::primitive_desc pd(
            dnnl::softmax_forward::desc(dnnl::prop_kind::forward_training, data, axis), dnnl_glue::engine());
        dnnl::softmax_backward::primitive_desc backward(dnnl::softmax_backward::desc(data, data, axis),
                                                        dnnl_glue::engine(), pd);
        return row_softmax_entry{pd, dnnl::softmax_forward(pd), dnnl::softmax_backward(backward)};
    });
}

/// [B, T, H * d] (row-major) seen as [B, H, T, d] without a copy: the matmul reads the strides.
tensor split_heads(const tensor& t, std::int64_t heads) {
    return dense(t, false).view({t.size(0), t.size(1), heads, t.size(2) / heads}).permute({0, 2, 1, 3});
}

/// [B, H, T, d] back to a row-major [B, T, H * d].
tensor merge_heads(const tensor& t) {
    return dense(t.permute({0, 2, 1, 3}), false).view({t.size(0), t.size(2), t.size(1) * t.size(3)});
}

}  // namespace

tensor attention(const tensor& q, const tensor& k, const tensor& v, std::int64_t heads) {
    const char* op = "attention";
    if (!q.defined() || !k.defined() || !v.defined()) fail(op, "q, k and v must be defined tensors");
    if (q.dim() != 3 || k.dim() != 3 || v.dim() != 3)
        fail(op, fmt::format("q, k, v must be [batch, tokens, channels], got {}, {}, {}", shape_text(q.shape()),
                             shape_text(k.shape()), shape_text(v.shape())));
    if (k.size(0) != q.size(0) || v.size(0) != q.size(0) || k.size(1) != v.size(1) || k.size(2) != q.size(2))
        fail(op, fmt::format("q {}, k {}, v {} do not fit: k needs q's batch and channels, v k's batch and tokens",
                             shape_text(q.shape()), shape_text(k.shape()), shape_text(v.shape())));
    if (heads < 1 || q.size(2) % heads != 0 || v.size(2) % heads != 0)
        fail(op, fmt::format("{} heads do not divide the channels of q ({}) and v ({})", heads, q.size(2), v.size(2)));
    const float alpha = 1.0f / std::sqrt(static_cast<float>(q.size(2) / heads));

    const tensor qh = split_heads(q.detach(), heads), kh = split_heads(k.detach(), heads),
                 vh = split_heads(v.detach(), heads);
    // Softmax in place over the scores: probabilities are all backward needs.
    const tensor probabilities = matmul_raw(qh, kh.transpose(-2, -1), tensor(), alpha);
    const memory::desc scores_desc = dnnl_glue::desc_of(probabilities);
    std::shared_ptr<row_softmax_entry> softmax_entry;
    dnnl_glue::checked(op, {q, k, v}, [&] {
        softmax_entry = row_softmax(scores_desc);
        const memory scores = dnnl_glue::memory_of(probabilities, scores_desc);
        execute(softmax_entry->forward, {{DNNL_ARG_SRC, scores}, {DNNL_ARG_DST, scores}});
    });
    tensor out = merge_heads(matmul_raw(probabilities, vh));
    record_op(out, op, {q, k, v}, [=](const tensor& grad_output) {
        const tensor gh = split_heads(grad_output, heads);
        tensor grad_q, grad_k, grad_v;
        if (wants_grad(v)) grad_v = merge_heads(matmul_raw(probabilities.transpose(-2, -1), gh));
        if (wants_grad(q) || wants_grad(k)) {
            // The softmax backward runs in place (oneDNN allows diff_dst as its output): one
            // [B, H, Tq, Tk] buffer less, and fresh buffers cost page faults on this scale.
            const tensor grad_scores = matmul_raw(gh, vh.transpose(-2, -1));
            dnnl_glue::checked(op, {grad_output, q, k, v}, [&] {
                const memory diff = dnnl_glue::memory_of(grad_scores, scores_desc);
                execute(softmax_entry->backward, {{DNNL_ARG_DST, dnnl_glue::memory_of(probabilities, scores_desc)},
                                                  {DNNL_ARG_DIFF_DST, diff},
                                                  {DNNL_ARG_DIFF_SRC, diff}});
            });
            if (wants_grad(q)) grad_q = merge_heads(matmul_raw(grad_scores, kh, tensor(), alpha));
            if (wants_grad(k)) grad_k = merge_heads(matmul_raw(grad_scores.transpose(-2, -1), qh, tensor(), alpha));
        }
        return std::vector<tensor>{grad_q, grad_k, grad_v};
    });
    return out;
}

}  // namespace difflab
