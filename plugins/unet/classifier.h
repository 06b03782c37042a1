// SPDX-License-Identifier: Apache-2.0
// The noisy image classifier of classifier guidance: the U-Net's encoder with a pooled linear head.
#pragma once

#include <difflab/diffusion/network.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/nn.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "unet_blocks.h"

namespace difflab::plugins {

/// The noise-aware image classifier of Dhariwal & Nichol 2021 ("Diffusion models beat GANs on
/// image synthesis", section 4 and appendix), laid out as guided-diffusion's EncoderUNetModel with
/// the "adaptive" head: conv_in; per level `num_res_blocks` residual blocks (with self-attention at
/// the listed feature-map sizes) and a strided 3x3 downsampling conv between levels; a middle of
/// residual block, attention, residual block; then group norm, SiLU, a global average pool over
/// H x W (the features) and a linear layer to `num_classes` logits (zero-initialized, as
/// guided-diffusion's 1x1 output conv). When `time_conditioned`, the noise input (times
/// time_scale) enters every residual block through the unet's sinusoidal embedding and MLP, so
/// the classifier reads noisy x_t for guidance; otherwise it has no time embedding at all (a
/// clean-image classifier, e.g. for FID features). One call of forward is one network evaluation
/// (it is not a denoiser).
///
/// Parameter names are module paths (time_embed.linear_1, conv_in, down.<i>.res, down.<i>.attn,
/// down.<i>.downsample, mid.res_1, mid.attn, mid.res_2, out_norm, head), the same as the
/// `Classifier` twin in tools/bench/unet_reference.py.
class classifier final : public network {
public:
    struct options {
        std::int64_t in_channels = 1;
        std::int64_t channels = 64;
        std::vector<std::int64_t> channel_mult = {1, 2, 2};
        std::int64_t num_res_blocks = 2;
        std::vector<std::int64_t> attention_resolutions = {};
        std::int64_t image_size = 28;
        std::int64_t num_heads = 1;
        std::int64_t head_channels = 0;
        double dropout = 0.0;
        std::int64_t groups = 32;
        std::int64_t num_classes = 10;
        bool time_conditioned = true;
        double time_scale = 1000.0;
        bool scale_shift_norm = false;
        std::int64_t seed = -1;
    };
    static param_spec<options> params();
    classifier(const options& opts, build_context& ctx);

    /// x [N, in_channels, H, W], noise [N] (required when time_conditioned, ignored and may be
    /// undefined otherwise), an empty condition (a classifier takes no labels: it predicts
    /// them) -> logits [N, num_classes], row-major: head(features(x, noise)).
    tensor forward(const tensor& x, const tensor& noise, const condition& cond) override;

    /// The pooled features [N, feature_channels()] the head reads: the global average over H x W
    /// of the final normalized, SiLU-activated feature map (FID's embedding).
    tensor features(const tensor& x, const tensor& noise) override;

    /// Logits [N, num_classes] from features [N, feature_channels()]: the final linear layer.
    tensor head(const tensor& features);

    /// Channels of features(): channels x the last channel_mult.
    std::int64_t feature_channels() const { return opts_.channels * opts_.channel_mult.back(); }

    const options& config() const { return opts_; }

private:
    /// One entry of the down path: a residual block (with attention), or a downsampling conv.
    struct stage {
        std::shared_ptr<unet_parts::res_block> res;
        std::shared_ptr<unet_parts::attention_block> attn;
        std::shared_ptr<nn::conv2d> downsample;
    };

    options opts_;
    std::shared_ptr<nn::conv2d> conv_in_;
    std::shared_ptr<nn::linear> time_linear_1_, time_linear_2_, head_;
    std::vector<stage> down_;
    std::shared_ptr<unet_parts::res_block> mid_res_1_, mid_res_2_;
    std::shared_ptr<unet_parts::attention_block> mid_attn_;
    std::shared_ptr<nn::group_norm> out_norm_;
};

}  // namespace difflab::plugins
