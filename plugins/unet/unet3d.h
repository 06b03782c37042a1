// SPDX-License-Identifier: Apache-2.0
// The factorized space-time U-Net of video diffusion models (Ho et al. 2022; RaMViD).
#pragma once

#include <difflab/diffusion/network.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/nn.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "temporal_attention.h"
#include "unet_blocks.h"

namespace difflab::plugins {

/// The 3-D U-Net of Ho et al. 2022 ("Video diffusion models", section 3), factorized over space
/// and time, with the frame conditioning of RaMViD (Höppe et al. 2022, "Diffusion models for
/// video prediction and infilling"): the unet's layout (conv_in, residual blocks with spatial
/// self-attention at the listed sizes, strided downsampling, a middle, an up path over the
/// skips, norm, SiLU, conv_out) run on every frame, with a temporal attention block
/// (temporal_attention.h) after each residual block (and its spatial attention) at the sizes in
/// temporal_attention_resolutions and in the middle, where frames exchange information.
///
/// The frames are folded into the batch: activations are [N * F, C, H, W] channels-last, so
/// each 3x3 convolution is Ho et al.'s space-only 1x3x3 one, run as a 2-D convolution over
/// N * F frames, and the unet's residual and attention blocks serve unchanged; their group
/// norms take statistics per frame. The time embedding (as the unet's) gets, per frame, a
/// learned row for "generated" or "given clean" (condition.clean_mask, RaMViD's conditioning
/// frames kept clean inside x_t), so that the network knows which frames it must not change.
/// No class conditioning. Output layers start at zero: a fresh network predicts 0.
class unet3d final : public network {
public:
    struct options {
        std::int64_t in_channels = 1;
        std::int64_t out_channels = 0;
        std::int64_t channels = 64;
        std::vector<std::int64_t> channel_mult = {1, 2, 2};
        std::int64_t num_res_blocks = 2;
        std::vector<std::int64_t> attention_resolutions = {};
        std::vector<std::int64_t> temporal_attention_resolutions = {};
        std::int64_t image_size = 64;
        std::int64_t max_frames = 32;
        std::int64_t num_heads = 1;
        std::int64_t head_channels = 0;
        double dropout = 0.0;
        std::int64_t groups = 32;
        double time_scale = 1000.0;
        bool scale_shift_norm = false;
        std::int64_t extra_in_channels = 0;
        std::int64_t seed = -1;
    };
    static param_spec<options> params();
    unet3d(const options& opts, build_context& ctx);

    /// x [N, in_channels, F, H, W] (F frames), noise [N], cond.channels [N, extra_in_channels,
    /// F, H, W] (required exactly when extra_in_channels > 0, concatenated after x unscaled),
    /// cond.clean_mask [N, 1, F, 1, 1] of 0 and 1 (1: the frame is given clean; undefined: none
    /// is) -> [N, out_channels, F, H, W], row-major. Labels are ignored (no class conditioning);
    /// a cross-attention context is refused.
    tensor forward(const tensor& x, const tensor& noise, const condition& cond) override;

    const options& config() const { return opts_; }
    /// Channels the input conv reads: in_channels + extra_in_channels.
    std::int64_t input_channels() const { return opts_.in_channels + opts_.extra_in_channels; }
    /// Channels forward returns.
    std::int64_t output_channels() const { return opts_.out_channels > 0 ? opts_.out_channels : opts_.in_channels; }

private:
    /// x with cond.channels joined after it, checked against the options, with the frames
    /// folded into the batch: [N * F, C, H, W] channels-last.
    tensor input(const tensor& x, const condition& cond) const;
    /// silu(time embedding + frame embedding) per frame, [N * F, 4 x channels].
    tensor frame_embedding(const tensor& noise, const tensor& clean_mask, std::int64_t n, std::int64_t frames);

    /// An entry of the down or up path: the unet's, with a temporal attention block after its
    /// residual block and spatial attention where the options ask for one.
    struct stage {
        unet_parts::stage spatial;
        std::shared_ptr<unet_parts::temporal_attention> temporal;

        tensor forward(const tensor& h, const tensor& emb_silu, std::int64_t frames) const;
    };
    std::vector<stage> build_path(const char* name, const std::vector<unet_parts::path_entry>& entries,
                                  const std::vector<std::int64_t>& sizes, const unet_parts::block_options& blocks);
    std::shared_ptr<unet_parts::temporal_attention> temporal_block(nn::module_list& holder, std::int64_t channels,
                                                                   std::int64_t size, const std::string& path) const;

    options opts_;
    std::uint64_t base_seed_;
    std::shared_ptr<nn::conv2d> conv_in_, conv_out_;
    std::shared_ptr<unet_parts::time_embedding> time_embed_;
    std::shared_ptr<nn::embedding> frame_embed_;
    std::vector<stage> down_, up_;
    unet_parts::middle mid_;
    std::shared_ptr<unet_parts::temporal_attention> mid_temporal_;
    std::shared_ptr<nn::group_norm> out_norm_;
};

}  // namespace difflab::plugins
