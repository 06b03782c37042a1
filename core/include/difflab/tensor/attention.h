// SPDX-License-Identifier: Apache-2.0
// Multi-head self- and cross-attention module with learned projections.
#pragma once

#include <difflab/tensor/module.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <memory>

namespace difflab::nn {

/// Multi-head scaled dot-product attention (Vaswani et al. 2017, "Attention is all you
/// need"), as in the latent-diffusion U-Net (Rombach et al. 2022): tokens x [B, T, dim]
/// attend to themselves (self-attention) or to a context [B, S, context_dim]
/// (cross-attention). Submodules to_q, to_k, to_v (linear, no bias) and to_out (linear with
/// bias), named after diffusers' attention (whose to_out.0 is to_out here). The attention
/// itself is the fused difflab::attention op.
class multi_head_attention : public module {
public:
    /// `context_dim` 0 means self-attention only (keys and values from x's `dim` channels).
    /// The projections take seeds seed, seed + 1, seed + 2, seed + 3.
    multi_head_attention(std::int64_t dim, std::int64_t heads, std::int64_t context_dim, std::uint64_t seed);

    /// Self-attention over x [B, T, dim].
    tensor forward(const tensor& x);
    /// Cross-attention: queries from x [B, T, dim], keys and values from context [B, S, context_dim].
    tensor forward(const tensor& x, const tensor& context);

    std::int64_t heads() const { return heads_; }

private:
    std::int64_t dim_, heads_, context_dim_;
    std::shared_ptr<linear> to_q_, to_k_, to_v_, to_out_;
};

}  // namespace difflab::nn
