// SPDX-License-Identifier: Apache-2.0
// The factorized space-time U-Net of video diffusion models (Ho et al. 2022; Höppe et al. 2022).
#include "unet3d.h"

#include <difflab/base/error.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <string>
#include <vector>

namespace difflab::plugins {

namespace {

using nn::module_list;

/// The frame embedding's row for each frame, [N, F]: 1 where the clean mask gives the frame
/// clean, 0 where the network generates it (everywhere without a mask).
tensor given_frames(const tensor& clean_mask, std::int64_t n, std::int64_t frames) {
    if (!clean_mask.defined()) return tensor::zeros({n, frames});
    const shape_t expected{n, 1, frames, 1, 1};
    if (clean_mask.shape() != expected)
        throw error(
            fmt::format("unet3d: expected a clean mask {} (one flag per frame: 1 given clean, 0 generated), "
                        "got {}; mark whole frames, the same for every channel and pixel",
                        shape_text(expected), shape_text(clean_mask.shape())));
    const std::vector<float> flags = clean_mask.to_vector();
    for (float flag : flags)
        if (flag != 0.0f && flag != 1.0f)
            throw error(
                fmt::format("unet3d: expected a clean mask {} of 0 (generated) and 1 (given clean), got the "
                            "value {}; pass whole-frame flags, not weights",
                            shape_text(expected), flag));
    return tensor::from_vector({n, frames}, flags);
}

}  // namespace

param_spec<unet3d::options> unet3d::params() {
    param_spec<options> spec{
        "Factorized space-time U-Net for video (Ho et al. 2022, \"Video diffusion models\"; the 3-D U-Net of "
        "RaMViD, Höppe et al. 2022): the unet on every frame with temporal attention between frames and a "
        "per-frame embedding of which frames are given clean."};
    spec.add(&options::in_channels, "in_channels", "Channels of each frame of the noisy video x_t.",
             at_least<std::int64_t>(1));
    unet_parts::add_unet_params(spec,
                                "Frame height/width that attention_resolutions and temporal_attention_resolutions "
                                "refer to (level l is ceil(image_size / 2^l)); frames of other sizes run with "
                                "attention at the same levels.");
    spec.add(&options::temporal_attention_resolutions, "temporal_attention_resolutions",
             "Feature-map sizes (of an image_size frame) whose blocks get temporal attention across frames, e.g. "
             "[16, 8]; empty: every level. The middle block always has it.",
             at_least<std::int64_t>(1));
    spec.add(&options::max_frames, "max_frames",
             "Frame distances the relative position bias of temporal attention tells apart (a table of "
             "2 max_frames - 1 rows); longer videos run, with farther frames sharing the last rows.",
             at_least<std::int64_t>(1));
    spec.add(&options::extra_in_channels, "extra_in_channels",
             "Channels of condition.channels [N, C', F, H, W] concatenated to c_in x_t, unscaled (e.g. frames to "
             "condition on, per frame); the input conv reads in_channels + this.",
             at_least<std::int64_t>(0));
    spec.add(&options::seed, "seed", "Seed of the initial weights; -1 takes the experiment's seed.",
             at_least<std::int64_t>(-1));
    return spec;
}

unet3d::unet3d(const options& opts, build_context& ctx) : opts_(opts) {
    unet_parts::check_layout("unet3d", opts_.channels, opts_.groups, opts_.channel_mult, opts_.attention_resolutions,
                             opts_.image_size);
    unet_parts::check_resolutions("unet3d", "temporal_attention_resolutions", opts_.temporal_attention_resolutions,
                                  opts_.image_size, opts_.channel_mult.size());
    base_seed_ = opts_.seed >= 0 ? static_cast<std::uint64_t>(opts_.seed) : ctx.seed();
    const std::int64_t ch = opts_.channels;
    const unet_parts::path_layout layout =
        unet_parts::plan_paths(ch, opts_.channel_mult, opts_.num_res_blocks, opts_.image_size);
    const unet_parts::block_options blocks = unet_parts::block_options::of("unet3d", opts_, base_seed_);
    const auto conv = [&](const char* path, std::int64_t in, std::int64_t out) {
        return std::make_shared<nn::conv2d>(in, out, 3, conv_options{1, 1}, true, layer_seed(base_seed_, path));
    };

    time_embed_ = register_module(
        "time_embed", std::make_shared<unet_parts::time_embedding>(ch, opts_.time_scale, base_seed_, "time_embed"));
    // Row 0: a frame the network generates; row 1: a frame given clean (RaMViD's conditioning frames).
    frame_embed_ = register_module("frame_embed",
                                   std::make_shared<nn::embedding>(2, 4 * ch, layer_seed(base_seed_, "frame_embed")));
    conv_in_ = register_module("conv_in", conv("conv_in", input_channels(), ch));
    down_ = build_path("down", layout.down, layout.sizes, blocks);
    auto mid = register_module("mid", std::make_shared<module_list>());
    mid_ = unet_parts::middle::build(*mid, layout.middle_channels, layout.sizes.back(), blocks);
    mid_temporal_ = temporal_block(*mid, layout.middle_channels, layout.sizes.back(), "mid.temporal");
    up_ = build_path("up", layout.up, layout.sizes, blocks);

    const std::int64_t last = layout.up.back().out_channels;
    out_norm_ = register_module("out_norm", std::make_shared<nn::group_norm>(opts_.groups, last));
    conv_out_ = register_module("conv_out", conv("conv_out", last, output_channels()));
    unet_parts::zero_parameters(*conv_out_);
}

std::vector<unet3d::stage> unet3d::build_path(const char* name, const std::vector<unet_parts::path_entry>& entries,
                                              const std::vector<std::int64_t>& sizes,
                                              const unet_parts::block_options& blocks) {
    auto path = register_module(name, std::make_shared<module_list>());
    std::vector<stage> stages;
    for (const unet_parts::stage& spatial : unet_parts::build_path(*path, name, entries, sizes, blocks)) {
        const unet_parts::path_entry& e = entries[stages.size()];
        const std::int64_t size = sizes[e.level];
        stage s{spatial, nullptr};
        if (spatial.res && unet_parts::at_resolution(opts_.temporal_attention_resolutions, size, true))
            s.temporal = temporal_block(*spatial.holder, e.out_channels, size,
                                        fmt::format("{}.{}.temporal", name, stages.size()));
        stages.push_back(s);
    }
    return stages;
}

std::shared_ptr<unet_parts::temporal_attention> unet3d::temporal_block(nn::module_list& holder, std::int64_t channels,
                                                                       std::int64_t size,
                                                                       const std::string& path) const {
    const std::int64_t heads =
        unet_parts::attention_heads("unet3d", channels, size, opts_.num_heads, opts_.head_channels);
    return holder.add("temporal", std::make_shared<unet_parts::temporal_attention>(channels, heads, opts_.groups,
                                                                                   opts_.max_frames, base_seed_, path));
}

tensor unet3d::input(const tensor& x, const condition& cond) const {
    if (!x.defined() || x.dim() != 5 || x.size(1) != opts_.in_channels)
        throw error(fmt::format("unet3d: expected a video x [N, {}, F, H, W] (in_channels, F frames), got {}",
                                opts_.in_channels,
                                x.defined() ? shape_text(x.shape()) : std::string("an undefined tensor")));
    const tensor joined =
        unet_parts::join_condition_channels("unet3d", x, cond.channels, opts_.extra_in_channels,
                                            "the conditioning frames", "x's batch size, frame count and frame size");
    // [N, C, F, H, W] to [N, F, H, W, C] in memory (one copy): the frames folded into the batch,
    // [N * F, C, H, W] channels-last, as a view.
    const std::int64_t n = x.size(0), frames = x.size(2), height = x.size(3), width = x.size(4);
    return joined.permute({0, 2, 3, 4, 1})
        .contiguous()
        .view({n * frames, height, width, joined.size(1)})
        .permute({0, 3, 1, 2});
}

tensor unet3d::frame_embedding(const tensor& noise, const tensor& clean_mask, std::int64_t n, std::int64_t frames) {
    const tensor emb = time_embed_->forward(noise);
    const std::int64_t width = emb.size(1);
    const tensor per_frame = emb.reshape({n, 1, width}) + frame_embed_->forward(given_frames(clean_mask, n, frames));
    // Every residual block opens its embedding projection with SiLU: apply it once for all.
    return silu(per_frame).reshape({n * frames, width});
}

tensor unet3d::stage::forward(const tensor& h, const tensor& emb_silu, std::int64_t frames) const {
    const tensor out = spatial.forward(h, emb_silu);
    return temporal ? temporal->forward(out, frames) : out;
}

tensor unet3d::forward(const tensor& x, const tensor& noise, const condition& cond) {
    const tensor in = input(x, cond);
    refuse_context("unet3d", cond);
    // cond.labels are not read: unet3d has no class conditioning (as an unconditional unet).
    const std::int64_t n = x.size(0), frames = x.size(2);
    unet_parts::check_noise("unet3d", noise, n);
    const tensor emb_silu = frame_embedding(noise, cond.clean_mask, n, frames);

    tensor h = conv_in_->forward(in);
    std::vector<tensor> skips{h};
    for (const stage& s : down_) {
        h = s.forward(h, emb_silu, frames);
        skips.push_back(h);
    }
    h = mid_temporal_->forward(mid_.attn->forward(mid_.res_1->forward(h, emb_silu)), frames);
    h = mid_.res_2->forward(h, emb_silu);
    for (const stage& s : up_) {
        h = s.forward(concat({h, skips.back()}, 1), emb_silu, frames);
        skips.pop_back();
        if (s.spatial.upsample) h = s.spatial.upsampled(h, skips.back());
    }
    h = conv_out_->forward(group_norm_silu(h, opts_.groups, out_norm_->weight, out_norm_->bias));
    // [N * F, C, H, W] channels-last is [N, F, H, W, C] in memory: unfold to [N, C, F, H, W] row-major.
    return h.permute({0, 2, 3, 1})
        .reshape({n, frames, h.size(2), h.size(3), h.size(1)})
        .permute({0, 4, 1, 2, 3})
        .contiguous();
}

}  // namespace difflab::plugins
