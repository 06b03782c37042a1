// SPDX-License-Identifier: Apache-2.0
// The temporal attention block of the video U-Net: attention across frames at each spatial position.
#pragma once

#include <difflab/tensor/nn.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <memory>
#include <string>

#include "unet_blocks.h"

namespace difflab::plugins::unet_parts {

/// The temporal attention block of Ho et al. 2022 ("Video diffusion models", section 3): each
/// spatial position of a feature map attends over the frames, with a residual. Group norm,
/// q, k, v projections (attention_block's), multi-head scaled dot-product attention whose
/// logits get a learned relative position bias per head, softmax over the frames, the output
/// projection (zero-initialized, so a fresh block is the identity), residual add.
///
/// The bias is a table [2 max_frames - 1, heads] indexed by the distance j - i of key j from
/// query i, clipped to +-(max_frames - 1), so that any frame count runs and frames further
/// apart than the table reaches share its last row. Ho et al. add relative position
/// embeddings in each temporal attention block so that the network tells the order of frames
/// without an absolute time; their usual form, T5's bias (Raffel et al. 2020), shares rows
/// between larger distances in log-spaced buckets. A direct table, one row per distance, is
/// used here because video models see few frames (16 to 32): the table stays small.
class temporal_attention : public attention_projections {
public:
    temporal_attention(std::int64_t channels, std::int64_t heads, std::int64_t groups, std::int64_t max_frames,
                       std::uint64_t base_seed, const std::string& path);

    /// x [N * frames, C, H, W] (channels-last), the frames of each video folded into the batch
    /// (row n * frames + f is frame f of video n) -> the same shape and layout.
    tensor forward(const tensor& x, std::int64_t frames);

    /// The bias added to the logits, [heads, frames (queries), frames (keys)].
    tensor position_bias(std::int64_t frames) const;

private:
    std::int64_t max_frames_;
    std::shared_ptr<nn::embedding> relative_bias_;
};

}  // namespace difflab::plugins::unet_parts
