// SPDX-License-Identifier: Apache-2.0
// Differentiable network layers on oneDNN primitives: convolution, matmul, normalization,
// softmax, pooling, resampling.
#pragma once

#include <difflab/tensor.h>

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
/// layout (channels-last in, channels-last out).
tensor conv2d(const tensor& x, const tensor& weight, const tensor& bias, const conv_options& options = {});
/// x [N, C, D, H, W], weight [O, C/groups, kD, kH, kW].
tensor conv3d(const tensor& x, const tensor& weight, const tensor& bias, const conv_options& options = {});

/// x [..., in] times weight [out, in] transposed, plus bias [out] (torch.nn.functional.linear).
tensor linear(const tensor& x, const tensor& weight, const tensor& bias);
/// [..., n, k] x [..., k, m] with batch broadcasting.
tensor matmul(const tensor& a, const tensor& b);

/// Group normalization (Wu & He 2018): layer normalization over an (N, G, C/G*H*W) view,
/// then a per-channel affine.
tensor group_norm(const tensor& x, std::int64_t groups, const tensor& weight, const tensor& bias, float eps = 1e-5f);
/// Normalizes over the last dimension, with weight and bias of that size.
tensor layer_norm(const tensor& x, const tensor& weight, const tensor& bias, float eps = 1e-5f);

tensor softmax(const tensor& x, std::int64_t d);
tensor log_softmax(const tensor& x, std::int64_t d);

tensor avg_pool2d(const tensor& x, std::int64_t kernel, std::int64_t stride);
tensor max_pool2d(const tensor& x, std::int64_t kernel, std::int64_t stride);

/// Resamples H and W (4-D) to `size`; mode "nearest" or "bilinear" (align_corners=false).
tensor interpolate(const tensor& x, std::array<std::int64_t, 2> size, const std::string& mode);

}  // namespace difflab
