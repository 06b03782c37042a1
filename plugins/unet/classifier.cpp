// SPDX-License-Identifier: Apache-2.0
// The noisy image classifier of classifier guidance (Dhariwal & Nichol 2021), an encoder U-Net.
#include "classifier.h"

#include <difflab/base/error.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace difflab::plugins {

namespace {

using nn::module_list;
using unet_parts::attention_block;
using unet_parts::res_block;

std::string shape_or_undefined(const tensor& t) {
    return t.defined() ? shape_text(t.shape()) : std::string("an undefined tensor");
}

}  // namespace

param_spec<classifier::options> classifier::params() {
    param_spec<options> spec{
        "Noisy image classifier (Dhariwal & Nichol 2021): the U-Net encoder with a pooled linear head, as "
        "guided-diffusion's EncoderUNetModel; logits [N, num_classes] for classifier guidance and metrics."};
    spec.add(&options::in_channels, "in_channels", "Channels of the input image.", at_least<std::int64_t>(1));
    unet_parts::add_shared_params(spec);
    spec.add(&options::channel_mult, "channel_mult",
             "Width multiplier per level; each level after the first halves the feature map (ceil). The features "
             "have channels x the last multiplier.",
             at_least<std::int64_t>(1));
    spec.add(&options::num_res_blocks, "num_res_blocks", "Residual blocks per level.", at_least<std::int64_t>(1));
    spec.add(&options::image_size, "image_size",
             "Input height/width that attention_resolutions refers to (level l is ceil(image_size / 2^l)); inputs "
             "of other sizes run with attention at the same levels (the head pools any size).",
             at_least<std::int64_t>(1));
    spec.add(&options::num_classes, "num_classes", "Classes: the width of the logits.", at_least<std::int64_t>(2));
    spec.add(&options::time_conditioned, "time_conditioned",
             "Read the noise input through a sinusoidal embedding and MLP (width 4 x channels) in every residual "
             "block, to classify noisy x_t (classifier guidance); false: no time embedding, noise is ignored.");
    spec.add(&options::time_scale, "time_scale",
             "The noise input is multiplied by this before the sinusoidal embedding (1000: DDPM's timesteps from "
             "t in [0, 1]); unused unless time_conditioned.",
             greater_than(0.0));
    spec.add(&options::scale_shift_norm, "scale_shift_norm",
             "AdaGN (Dhariwal & Nichol 2021): the time embedding scales and shifts after the norm instead of adding "
             "a bias before it; unused unless time_conditioned.");
    spec.add(&options::seed, "seed", "Seed of the initial weights; -1 takes the experiment's seed.",
             at_least<std::int64_t>(-1));
    return spec;
}

classifier::classifier(const options& opts, build_context& ctx) : opts_(opts) {
    unet_parts::check_layout("classifier", opts_.channels, opts_.groups, opts_.channel_mult,
                             opts_.attention_resolutions, opts_.image_size);
    const std::uint64_t base = opts_.seed >= 0 ? static_cast<std::uint64_t>(opts_.seed) : ctx.seed();
    const std::int64_t ch = opts_.channels, groups = opts_.groups;
    // Residual blocks without a time embedding get emb_channels 0: no projection at all.
    const std::int64_t emb = opts_.time_conditioned ? 4 * ch : 0;
    const std::vector<std::int64_t> sizes = unet_parts::level_sizes(opts_.image_size, opts_.channel_mult.size());
    const auto heads = [&](std::int64_t channels, std::int64_t size) {
        return unet_parts::attention_heads("classifier", channels, size, opts_.num_heads, opts_.head_channels);
    };
    const auto wants_attention = [&](std::size_t level) {
        const auto& r = opts_.attention_resolutions;
        return std::find(r.begin(), r.end(), sizes[level]) != r.end();
    };
    const auto conv = [&](const std::string& path, std::int64_t in, std::int64_t out, std::int64_t stride) {
        return std::make_shared<nn::conv2d>(in, out, 3, conv_options{stride, 1}, true, layer_seed(base, path));
    };
    const auto res = [&](std::int64_t in, std::int64_t out, const std::string& path) {
        return std::make_shared<res_block>(in, out, emb, groups, opts_.scale_shift_norm, opts_.dropout, base, path);
    };

    if (opts_.time_conditioned) {
        auto time_embed = register_module("time_embed", std::make_shared<module_list>());
        time_linear_1_ = time_embed->add(
            "linear_1", std::make_shared<nn::linear>(ch, emb, true, layer_seed(base, "time_embed.linear_1")));
        time_linear_2_ = time_embed->add(
            "linear_2", std::make_shared<nn::linear>(emb, emb, true, layer_seed(base, "time_embed.linear_2")));
    }
    conv_in_ = register_module("conv_in", conv("conv_in", opts_.in_channels, ch, 1));

    auto down = register_module("down", std::make_shared<module_list>());
    std::int64_t current = ch;
    for (std::size_t level = 0; level < opts_.channel_mult.size(); ++level) {
        const std::int64_t width = ch * opts_.channel_mult[level];
        for (std::int64_t b = 0; b < opts_.num_res_blocks; ++b) {
            const std::string index = std::to_string(down_.size()), path = "down." + index;
            auto holder = down->add(index, std::make_shared<module_list>());
            stage s;
            s.res = holder->add("res", res(current, width, path + ".res"));
            current = width;
            if (wants_attention(level))
                s.attn = holder->add("attn", std::make_shared<attention_block>(current, heads(current, sizes[level]),
                                                                               groups, base, path + ".attn"));
            down_.push_back(s);
        }
        if (level + 1 < opts_.channel_mult.size()) {
            const std::string index = std::to_string(down_.size()), path = "down." + index;
            auto holder = down->add(index, std::make_shared<module_list>());
            stage s;
            s.downsample = holder->add("downsample", conv(path + ".downsample", current, current, 2));
            down_.push_back(s);
        }
    }

    auto mid = register_module("mid", std::make_shared<module_list>());
    mid_res_1_ = mid->add("res_1", res(current, current, "mid.res_1"));
    mid_attn_ = mid->add(
        "attn", std::make_shared<attention_block>(current, heads(current, sizes.back()), groups, base, "mid.attn"));
    mid_res_2_ = mid->add("res_2", res(current, current, "mid.res_2"));

    out_norm_ = register_module("out_norm", std::make_shared<nn::group_norm>(groups, current));
    // guided-diffusion's "adaptive" head ends in a zero-initialized 1x1 conv on the pooled map,
    // which is this linear: a fresh classifier predicts uniform class probabilities.
    head_ = register_module("head",
                            std::make_shared<nn::linear>(current, opts_.num_classes, true, layer_seed(base, "head")));
    unet_parts::zero_parameters(*head_);
}

tensor classifier::features(const tensor& x, const tensor& noise) {
    if (!x.defined() || x.dim() != 4 || x.size(1) != opts_.in_channels)
        throw error(fmt::format("classifier: expected x [N, {}, H, W] (in_channels {}), got {}", opts_.in_channels,
                                opts_.in_channels, shape_or_undefined(x)));
    const std::int64_t n = x.size(0);
    tensor emb_silu;
    if (opts_.time_conditioned) {
        if (!noise.defined() || noise.numel() != n)
            throw error(
                fmt::format("classifier: time_conditioned needs one noise input per example ([{}]), got {}; set "
                            "time_conditioned: false for a classifier of clean images",
                            n, shape_or_undefined(noise)));
        // Every residual block opens its embedding projection with SiLU: apply it once for all.
        emb_silu = silu(time_linear_2_->forward(
            silu(time_linear_1_->forward(timestep_embedding(noise, opts_.channels, opts_.time_scale)))));
    }

    tensor h = conv_in_->forward(x.to_channels_last());
    for (stage& s : down_) {
        if (s.res) h = s.res->forward(h, emb_silu);
        if (s.attn) h = s.attn->forward(h);
        if (s.downsample) h = s.downsample->forward(h);
    }
    h = mid_res_2_->forward(mid_attn_->forward(mid_res_1_->forward(h, emb_silu)), emb_silu);
    return mean(group_norm_silu(h, opts_.groups, out_norm_->weight, out_norm_->bias), {2, 3});
}

tensor classifier::head(const tensor& features) {
    if (!features.defined() || features.dim() != 2 || features.size(1) != feature_channels())
        throw error(fmt::format("classifier: head expects features [N, {}], got {}", feature_channels(),
                                shape_or_undefined(features)));
    return head_->forward(features);
}

tensor classifier::forward(const tensor& x, const tensor& noise, const condition& cond) {
    if (cond.labels.defined())
        throw error(
            fmt::format("classifier: got labels {}, but a classifier takes no labels (it predicts them); leave "
                        "condition.labels undefined",
                        shape_text(cond.labels.shape())));
    if (cond.channels.defined())
        throw error(
            fmt::format("classifier: got condition channels {}, but a classifier reads x alone; leave "
                        "condition.channels undefined",
                        shape_text(cond.channels.shape())));
    refuse_context("classifier", cond);
    refuse_clean_mask("classifier", cond);
    return head(features(x, noise)).contiguous();
}

}  // namespace difflab::plugins
