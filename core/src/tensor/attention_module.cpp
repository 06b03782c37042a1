// SPDX-License-Identifier: Apache-2.0
// multi_head_attention: linear projections around the fused attention op of nn_ops.h.
#include <difflab/base/error.h>
#include <difflab/tensor/attention.h>
#include <difflab/tensor/nn_ops.h>
#include <fmt/format.h>

namespace difflab::nn {

multi_head_attention::multi_head_attention(std::int64_t dim, std::int64_t heads, std::int64_t context_dim,
                                           std::uint64_t seed)
    : dim_(dim), heads_(heads), context_dim_(context_dim > 0 ? context_dim : dim) {
    if (dim < 1 || heads < 1 || dim % heads != 0)
        throw config_error(fmt::format("multi_head_attention: {} channels do not split into {} heads; pick "
                                        "heads dividing the channel count",
                                       dim, heads));
    to_q_ = register_module("to_q", std::make_shared<linear>(dim, dim, false, seed));
    to_k_ = register_module("to_k", std::make_shared<linear>(context_dim_, dim, false, seed + 1));
    to_v_ = register_module("to_v", std::make_shared<linear>(context_dim_, dim, false, seed + 2));
    to_out_ = register_module("to_out", std::make_shared<linear>(dim, dim, true, seed + 3));
}

tensor multi_head_attention::forward(const tensor& x) {
    if (context_dim_ != dim_)
        throw error(fmt::format("multi_head_attention: built for cross-attention to {} context channels; "
                                 "call forward(x, context)",
                                context_dim_));
    return forward(x, x);
}

tensor multi_head_attention::forward(const tensor& x, const tensor& context) {
    if (x.dim() != 3 || x.size(2) != dim_ || context.dim() != 3 || context.size(2) != context_dim_ ||
        context.size(0) != x.size(0))
        throw error(fmt::format("multi_head_attention: expected x [B, T, {}] and context [B, S, {}], got {} "
                                 "and {}",
                                dim_, context_dim_, shape_text(x.shape()), shape_text(context.shape())));
    const tensor out = attention(to_q_->forward(x), to_k_->forward(context), to_v_->forward(context), heads_);
    return to_out_->forward(out);
}

}  // namespace difflab::nn
