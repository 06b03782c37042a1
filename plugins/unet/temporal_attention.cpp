// SPDX-License-Identifier: Apache-2.0
// The temporal attention block of the video U-Net (Ho et al. 2022, "Video diffusion models").
#include "temporal_attention.h"

#include <difflab/tensor/network_parts.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace difflab::plugins::unet_parts {

temporal_attention::temporal_attention(std::int64_t channels, std::int64_t heads, std::int64_t groups,
                                       std::int64_t max_frames, std::uint64_t base_seed, const std::string& path)
    : attention_projections(channels, heads, groups, base_seed, path), max_frames_(max_frames) {
    // Zero: a fresh block has no preference for any distance, as one without the bias.
    relative_bias_ = register_module(
        "relative_bias",
        std::make_shared<nn::embedding>(2 * max_frames - 1, heads, layer_seed(base_seed, path + ".relative_bias")));
    zero_parameters(*relative_bias_);
}

tensor temporal_attention::position_bias(std::int64_t frames) const {
    // Row r of the table is the distance r - (max_frames - 1); the lookup records a gradient
    // into the rows it reads, so the table trains.
    const std::int64_t reach = max_frames_ - 1;
    std::vector<float> rows(static_cast<std::size_t>(frames * frames));
    for (std::int64_t i = 0; i < frames; ++i)
        for (std::int64_t j = 0; j < frames; ++j)
            rows[static_cast<std::size_t>(i * frames + j)] =
                static_cast<float>(std::clamp(j - i, -reach, reach) + reach);
    return embedding(relative_bias_->weight, tensor::from_vector({frames, frames}, rows)).permute({2, 0, 1});
}

tensor temporal_attention::forward(const tensor& x, std::int64_t frames) {
    const std::int64_t n = x.size(0) / frames, c = x.size(1), height = x.size(2), width = x.size(3);
    const std::int64_t positions = height * width, tokens = n * positions, head = c / heads_;
    // Channels-last, the folded map is [N, F, H * W, C] in memory: one copy gathers the frames of
    // each position into a sequence, [N * H * W, F, C].
    const tensor seq = group_norm(x, groups_, norm_->weight, norm_->bias)
                           .permute({0, 2, 3, 1})
                           .reshape({n, frames, positions, c})
                           .permute({0, 2, 1, 3})
                           .contiguous()
                           .view({tokens, frames, c});
    const auto split_heads = [&](const tensor& t) {
        return t.view({tokens, frames, heads_, head}).permute({0, 2, 1, 3});
    };
    // Scores written out (the fused attention op takes no bias): q k^T / sqrt(d) + bias, [B, heads, F, F].
    const tensor q = split_heads(to_q_->forward(seq) * static_cast<float>(1.0 / std::sqrt(static_cast<double>(head))));
    const tensor k = split_heads(to_k_->forward(seq)), v = split_heads(to_v_->forward(seq));
    const tensor weights = softmax(matmul(q, k.transpose(2, 3)) + position_bias(frames), 3);
    const tensor mixed = matmul(weights, v).permute({0, 2, 1, 3}).reshape({tokens, frames, c});
    // Back to the folded channels-last layout [N, F, H, W, C].
    const tensor out = to_out_->forward(mixed)
                           .view({n, positions, frames, c})
                           .permute({0, 2, 1, 3})
                           .contiguous()
                           .view({n * frames, height, width, c})
                           .permute({0, 3, 1, 2});
    return x + out;
}

}  // namespace difflab::plugins::unet_parts
