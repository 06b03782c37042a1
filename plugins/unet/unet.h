// SPDX-License-Identifier: Apache-2.0
// The DDPM / ADM U-Net: the image network of pixel-space diffusion models.
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

/// The U-Net of Ho et al. 2020 ("Denoising diffusion probabilistic models") as improved by
/// Nichol & Dhariwal 2021 ("Improved denoising diffusion probabilistic models") and Dhariwal &
/// Nichol 2021 ("Diffusion models beat GANs on image synthesis"), laid out as improved-diffusion's
/// UNetModel: conv_in; per level `num_res_blocks` residual blocks (with self-attention at the
/// listed feature-map sizes) and a strided 3x3 downsampling conv between levels; a middle of
/// residual block, attention, residual block; an up path of `num_res_blocks + 1` blocks per
/// level, each reading a skip connection, with nearest upsampling + 3x3 conv between levels;
/// then norm, SiLU, conv 3x3. The time (noise input * time_scale) enters through a sinusoidal
/// embedding and a two-layer MLP (width 4 * channels), plus a class embedding (num_classes + 1
/// rows, the last the null class of classifier-free guidance) when class-conditional; an
/// image to condition on (SR3, Palette) enters as `extra_in_channels` channels concatenated to
/// x. One call of forward is one denoiser evaluation.
///
/// Activations run channels-last (oneDNN's fast convolution layout); output layers of every
/// residual branch and the final conv start at zero, so a fresh network is the identity
/// inside each block and predicts 0.
class unet final : public network {
public:
    struct options {
        std::int64_t in_channels = 1;
        std::int64_t out_channels = 0;
        std::int64_t channels = 64;
        std::vector<std::int64_t> channel_mult = {1, 2, 2};
        std::int64_t num_res_blocks = 2;
        std::vector<std::int64_t> attention_resolutions = {};
        std::int64_t image_size = 28;
        std::int64_t num_heads = 1;
        std::int64_t head_channels = 0;
        double dropout = 0.0;
        std::int64_t groups = 32;
        double time_scale = 1000.0;
        bool scale_shift_norm = false;
        std::int64_t num_classes = 0;
        std::int64_t extra_in_channels = 0;
        bool learned_variance = false;
        std::int64_t seed = -1;
    };
    static param_spec<options> params();
    unet(const options& opts, build_context& ctx);

    /// x [N, in_channels, H, W], noise [N], cond.labels [N] (or undefined: the null class),
    /// cond.channels [N, extra_in_channels, H, W] (required exactly when extra_in_channels > 0,
    /// concatenated after x unscaled) -> [N, out_channels (x 2 with learned_variance), H, W],
    /// row-major. A cross-attention context is refused.
    tensor forward(const tensor& x, const tensor& noise, const condition& cond) override;

    /// "encoder.i" after each entry of the down path (its block, attention and downsampling),
    /// "middle" after the middle blocks, "decoder.i" after each entry of the up path's block and
    /// attention (before its upsampling), in forward's order: Baranchuk et al. 2022 read the
    /// decoder's as pixel features.
    std::vector<std::string> tap_names() const override;

    const options& config() const { return opts_; }
    /// Channels the input conv reads: in_channels + extra_in_channels.
    std::int64_t input_channels() const { return opts_.in_channels + opts_.extra_in_channels; }
    /// Channels forward returns.
    std::int64_t output_channels() const;

private:
    /// x with cond.channels concatenated after it, checked against the options.
    tensor input(const tensor& x, const condition& cond) const;

    options opts_;
    std::shared_ptr<nn::conv2d> conv_in_, conv_out_;
    std::shared_ptr<unet_parts::time_embedding> time_embed_;
    std::shared_ptr<nn::embedding> class_embed_;
    std::vector<unet_parts::stage> down_, up_;
    unet_parts::middle mid_;
    std::shared_ptr<nn::group_norm> out_norm_;
};

}  // namespace difflab::plugins
