// SPDX-License-Identifier: Apache-2.0
// Differentiable network layers on oneDNN primitives: convolution, matmul, normalization,
// softmax, pooling, resampling, attention.
#pragma once

#include <difflab/tensor/tensor.h>

#include <array>
#include <cstdint>
#include <string>

namespace difflab {

struct conv_options {
    std::int64_t stride = 1;
    std::int64_t padding = 0;
    std::int64_t dilation = 1;
    std::int64_t groups = 1;
};

/// x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] or undefined. Output keeps x's
/// layout (channels-last in, channels-last out; anything else runs in oneDNN's blocked layout
/// and comes back row-major). A bf16 x runs in bf16 (f32 weights are converted).
tensor conv2d(const tensor& x, const tensor& weight, const tensor& bias, const conv_options& options = {});
/// conv2d(x, weight, bias, options) + residual in one pass over the output: the sum rides on
/// the convolution as a oneDNN post-op (the skip connection that closes a ResNet block).
/// `residual` has the output's shape, any layout.
tensor conv2d_add(const tensor& x, const tensor& weight, const tensor& bias, const tensor& residual,
                  const conv_options& options = {});
/// x [N, C, D, H, W], weight [O, C/groups, kD, kH, kW].
tensor conv3d(const tensor& x, const tensor& weight, const tensor& bias, const conv_options& options = {});

/// x [..., in] times weight [out, in] transposed, plus bias [out] (torch.nn.functional.linear).
tensor linear(const tensor& x, const tensor& weight, const tensor& bias);
/// [..., n, k] x [..., k, m] with batch broadcasting.
tensor matmul(const tensor& a, const tensor& b);

/// Group normalization (Wu & He 2018): layer normalization over an (N, G, C/G*H*W) view,
/// then a per-channel affine.
tensor group_norm(const tensor& x, std::int64_t groups, const tensor& weight, const tensor& bias, float eps = 1e-5f);
/// silu(group_norm(...)) with the affine and the activation fused into one pass over memory:
/// the norm-activation pair that opens every diffusion U-Net block.
tensor group_norm_silu(const tensor& x, std::int64_t groups, const tensor& weight, const tensor& bias,
                       float eps = 1e-5f);
/// Layer normalization (Ba, Kiros & Hinton 2016) over the last dimension, with weight and
/// bias of that size.
tensor layer_norm(const tensor& x, const tensor& weight, const tensor& bias, float eps = 1e-5f);

tensor softmax(const tensor& x, std::int64_t d);
tensor log_softmax(const tensor& x, std::int64_t d);

tensor avg_pool2d(const tensor& x, std::int64_t kernel, std::int64_t stride);
tensor max_pool2d(const tensor& x, std::int64_t kernel, std::int64_t stride);

/// Resamples H and W (4-D) to `size`; mode "nearest" (PyTorch's: source index
/// floor(dst * in / out)) or "bilinear" (align_corners=false). Pooling, softmax and
/// resampling keep a channels-last input channels-last.
tensor interpolate(const tensor& x, std::array<std::int64_t, 2> size, const std::string& mode);

/// Multi-head scaled dot-product attention (Vaswani et al. 2017, "Attention is all you
/// need"): q [B, Tq, D], k [B, Tk, D], v [B, Tk, Dv] -> [B, Tq, Dv], with D and Dv split into
/// `heads` heads; softmax(q k^T / sqrt(D / heads)) v per head. Self-attention passes the same
/// tokens' projections as q, k, v; cross-attention k and v from the context.
tensor attention(const tensor& q, const tensor& k, const tensor& v, std::int64_t heads);

}  // namespace difflab
