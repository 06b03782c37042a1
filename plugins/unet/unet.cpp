// SPDX-License-Identifier: Apache-2.0
// The DDPM / ADM U-Net (Ho et al. 2020; Nichol & Dhariwal 2021; Dhariwal & Nichol 2021).
#include "unet.h"

#include <difflab/base/error.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace difflab::plugins {

using nn::module_list;
using unet_parts::attention_block;
using unet_parts::res_block;

param_spec<unet::options> unet::params() {
    param_spec<options> spec{
        "DDPM/ADM U-Net (Ho et al. 2020; Nichol & Dhariwal 2021; Dhariwal & Nichol 2021), as improved-diffusion's "
        "UNetModel."};
    spec.add(&options::in_channels, "in_channels", "Channels of the noisy image x_t.", at_least<std::int64_t>(1));
    spec.add(&options::out_channels, "out_channels", "Channels of the prediction; 0 means in_channels.",
             at_least<std::int64_t>(0));
    unet_parts::add_shared_params(spec);
    spec.add(&options::channel_mult, "channel_mult",
             "Width multiplier per level; each level after the first halves the feature map (ceil).",
             at_least<std::int64_t>(1));
    spec.add(&options::num_res_blocks, "num_res_blocks",
             "Residual blocks per level on the down path (the up path has one more).", at_least<std::int64_t>(1));
    spec.add(&options::image_size, "image_size",
             "Input height/width that attention_resolutions refers to (level l is ceil(image_size / 2^l)); inputs "
             "of other sizes run with attention at the same levels.",
             at_least<std::int64_t>(1));
    spec.add(&options::time_scale, "time_scale",
             "The noise input is multiplied by this before the sinusoidal embedding (1000: DDPM's timesteps from "
             "t in [0, 1]).",
             greater_than(0.0));
    spec.add(&options::scale_shift_norm, "scale_shift_norm",
             "AdaGN (Dhariwal & Nichol 2021): the time embedding scales and shifts after the norm instead of adding "
             "a bias before it.");
    spec.add(&options::num_classes, "num_classes",
             "Classes for class conditioning (0: unconditional, labels ignored); id num_classes is the null class "
             "of classifier-free guidance.",
             at_least<std::int64_t>(0));
    spec.add(&options::extra_in_channels, "extra_in_channels",
             "Channels of condition.channels concatenated to c_in x_t, unscaled (SR3's low-resolution image, "
             "Palette's source image); the input conv reads in_channels + this.",
             at_least<std::int64_t>(0));
    spec.add(&options::learned_variance, "learned_variance",
             "Output 2 x out_channels (the mean's parametrization and the variance interpolation of Nichol & "
             "Dhariwal 2021).");
    spec.add(&options::seed, "seed", "Seed of the initial weights; -1 takes the experiment's seed.",
             at_least<std::int64_t>(-1));
    return spec;
}

std::int64_t unet::output_channels() const {
    const std::int64_t out = opts_.out_channels > 0 ? opts_.out_channels : opts_.in_channels;
    return opts_.learned_variance ? 2 * out : out;
}

unet::unet(const options& opts, build_context& ctx) : opts_(opts) {
    unet_parts::check_layout("unet", opts_.channels, opts_.groups, opts_.channel_mult, opts_.attention_resolutions,
                             opts_.image_size);
    const std::uint64_t base = opts_.seed >= 0 ? static_cast<std::uint64_t>(opts_.seed) : ctx.seed();
    const std::int64_t ch = opts_.channels, emb = 4 * ch, groups = opts_.groups;
    const std::vector<std::int64_t> sizes = unet_parts::level_sizes(opts_.image_size, opts_.channel_mult.size());
    const auto heads = [&](std::int64_t channels, std::int64_t size) {
        return unet_parts::attention_heads("unet", channels, size, opts_.num_heads, opts_.head_channels);
    };
    const auto wants_attention = [&](std::size_t level) {
        const auto& r = opts_.attention_resolutions;
        return std::find(r.begin(), r.end(), sizes[level]) != r.end();
    };
    const auto conv = [&](const std::string& path, std::int64_t in, std::int64_t out, std::int64_t kernel,
                          std::int64_t stride) {
        return std::make_shared<nn::conv2d>(in, out, kernel, conv_options{stride, kernel / 2}, true,
                                            layer_seed(base, path));
    };

    auto time_embed = register_module("time_embed", std::make_shared<module_list>());
    time_linear_1_ = time_embed->add(
        "linear_1", std::make_shared<nn::linear>(ch, emb, true, layer_seed(base, "time_embed.linear_1")));
    time_linear_2_ = time_embed->add(
        "linear_2", std::make_shared<nn::linear>(emb, emb, true, layer_seed(base, "time_embed.linear_2")));
    if (opts_.num_classes > 0)
        class_embed_ = register_module("class_embed", std::make_shared<nn::embedding>(opts_.num_classes + 1, emb,
                                                                                      layer_seed(base, "class_embed")));
    conv_in_ = register_module("conv_in", conv("conv_in", input_channels(), ch, 3, 1));

    // Down path: the channel count of every skip it leaves, in order, for the up path to read.
    auto down = register_module("down", std::make_shared<module_list>());
    std::vector<std::int64_t> skip_channels{ch};
    std::int64_t current = ch;
    for (std::size_t level = 0; level < opts_.channel_mult.size(); ++level) {
        const std::int64_t width = ch * opts_.channel_mult[level];
        for (std::int64_t b = 0; b < opts_.num_res_blocks; ++b) {
            const std::string index = std::to_string(down_.size()), path = "down." + index;
            auto holder = down->add(index, std::make_shared<module_list>());
            stage s;
            s.res = holder->add("res", std::make_shared<res_block>(current, width, emb, groups, opts_.scale_shift_norm,
                                                                   opts_.dropout, base, path + ".res"));
            current = width;
            if (wants_attention(level))
                s.attn = holder->add("attn", std::make_shared<attention_block>(current, heads(current, sizes[level]),
                                                                               groups, base, path + ".attn"));
            down_.push_back(s);
            skip_channels.push_back(current);
        }
        if (level + 1 < opts_.channel_mult.size()) {
            const std::string index = std::to_string(down_.size()), path = "down." + index;
            auto holder = down->add(index, std::make_shared<module_list>());
            stage s;
            s.resample = holder->add("downsample", conv(path + ".downsample", current, current, 3, 2));
            down_.push_back(s);
            skip_channels.push_back(current);
        }
    }

    auto mid = register_module("mid", std::make_shared<module_list>());
    mid_res_1_ = mid->add("res_1", std::make_shared<res_block>(current, current, emb, groups, opts_.scale_shift_norm,
                                                               opts_.dropout, base, "mid.res_1"));
    mid_attn_ = mid->add(
        "attn", std::make_shared<attention_block>(current, heads(current, sizes.back()), groups, base, "mid.attn"));
    mid_res_2_ = mid->add("res_2", std::make_shared<res_block>(current, current, emb, groups, opts_.scale_shift_norm,
                                                               opts_.dropout, base, "mid.res_2"));

    auto up = register_module("up", std::make_shared<module_list>());
    for (std::size_t level = opts_.channel_mult.size(); level-- > 0;) {
        const std::int64_t width = ch * opts_.channel_mult[level];
        for (std::int64_t b = 0; b <= opts_.num_res_blocks; ++b) {
            const std::string index = std::to_string(up_.size()), path = "up." + index;
            auto holder = up->add(index, std::make_shared<module_list>());
            stage s;
            const std::int64_t in = current + skip_channels.back();
            skip_channels.pop_back();
            s.res = holder->add("res", std::make_shared<res_block>(in, width, emb, groups, opts_.scale_shift_norm,
                                                                   opts_.dropout, base, path + ".res"));
            current = width;
            if (wants_attention(level))
                s.attn = holder->add("attn", std::make_shared<attention_block>(current, heads(current, sizes[level]),
                                                                               groups, base, path + ".attn"));
            if (level > 0 && b == opts_.num_res_blocks)
                s.resample = holder->add("upsample", conv(path + ".upsample", current, current, 3, 1));
            up_.push_back(s);
        }
    }

    out_norm_ = register_module("out_norm", std::make_shared<nn::group_norm>(groups, current));
    conv_out_ = register_module("conv_out", conv("conv_out", current, output_channels(), 3, 1));
    unet_parts::zero_parameters(*conv_out_);
}

tensor unet::input(const tensor& x, const condition& cond) const {
    if (!x.defined() || x.dim() != 4 || x.size(1) != opts_.in_channels)
        throw error(fmt::format("unet: expected x [N, {}, H, W] (in_channels), got {}", opts_.in_channels,
                                x.defined() ? shape_text(x.shape()) : std::string("an undefined tensor")));
    const std::int64_t extra = opts_.extra_in_channels;
    const tensor& channels = cond.channels;
    if (!channels.defined()) {
        if (extra == 0) return x;
        throw error(
            fmt::format("unet: expected condition channels [{}, {}, {}, {}] (extra_in_channels {}), got none; "
                        "pass the conditioning image as condition.channels or set extra_in_channels: 0",
                        x.size(0), extra, x.size(2), x.size(3), extra));
    }
    if (extra == 0)
        throw error(
            fmt::format("unet: got condition channels {}, but extra_in_channels is 0; set extra_in_channels: {}",
                        shape_text(channels.shape()), channels.dim() == 4 ? channels.size(1) : 1));
    if (channels.dim() != 4 || channels.size(0) != x.size(0) || channels.size(1) != extra ||
        channels.size(2) != x.size(2) || channels.size(3) != x.size(3))
        throw error(
            fmt::format("unet: expected condition channels [{}, {}, {}, {}] (extra_in_channels {}), got {}; "
                        "{}",
                        x.size(0), extra, x.size(2), x.size(3), extra, shape_text(channels.shape()),
                        channels.dim() == 4 && channels.size(1) != extra
                            ? fmt::format("set extra_in_channels: {}", channels.size(1))
                            : std::string("give them x's batch size and image size")));
    // Unscaled: c_in has scaled x_t only (condition.h).
    return concat({x, channels}, 1);
}

std::vector<std::string> unet::tap_names() const {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < down_.size(); ++i) names.push_back(fmt::format("encoder.{}", i));
    names.emplace_back("middle");
    for (std::size_t i = 0; i < up_.size(); ++i) names.push_back(fmt::format("decoder.{}", i));
    return names;
}

tensor unet::forward(const tensor& x, const tensor& noise, const condition& cond) {
    const tensor in = input(x, cond);
    refuse_context("unet", cond);
    refuse_clean_mask("unet", cond);
    const std::int64_t n = x.size(0);
    if (!noise.defined() || noise.numel() != n)
        throw error(fmt::format("unet: expected one noise input per example ([{}]), got {}", n,
                                noise.defined() ? shape_text(noise.shape()) : std::string("an undefined tensor")));

    tensor emb = time_linear_2_->forward(
        silu(time_linear_1_->forward(timestep_embedding(noise, opts_.channels, opts_.time_scale))));
    if (class_embed_) {
        const tensor& labels = cond.labels;
        if (labels.defined() && labels.numel() != n)
            throw error(
                fmt::format("unet: expected one label per example ([{}]), got {}", n, shape_text(labels.shape())));
        const tensor ids =
            labels.defined() ? labels.reshape({n}) : tensor::full({n}, static_cast<float>(opts_.num_classes));
        emb = emb + class_embed_->forward(ids);
    }
    // Every residual block opens its embedding projection with SiLU: apply it once for all.
    const tensor emb_silu = silu(emb);

    tensor h = conv_in_->forward(in.to_channels_last());
    std::vector<tensor> skips{h};
    for (std::size_t i = 0; i < down_.size(); ++i) {
        stage& s = down_[i];
        if (s.res) h = s.res->forward(h, emb_silu);
        if (s.attn) h = s.attn->forward(h);
        if (s.resample) h = s.resample->forward(h);
        skips.push_back(h);
        tap(fmt::format("encoder.{}", i), h);
    }
    h = mid_res_2_->forward(mid_attn_->forward(mid_res_1_->forward(h, emb_silu)), emb_silu);
    tap("middle", h);
    for (std::size_t i = 0; i < up_.size(); ++i) {
        stage& s = up_[i];
        h = s.res->forward(concat({h, skips.back()}, 1), emb_silu);
        skips.pop_back();
        if (s.attn) h = s.attn->forward(h);
        tap(fmt::format("decoder.{}", i), h);
        if (s.resample) {
            // To the next skip's size: x2 when the sizes halved evenly, and odd sizes still meet.
            const tensor& next = skips.back();
            h = s.resample->forward(interpolate(h, {next.size(2), next.size(3)}, "nearest"));
        }
    }
    return conv_out_->forward(group_norm_silu(h, opts_.groups, out_norm_->weight, out_norm_->bias)).contiguous();
}

}  // namespace difflab::plugins
