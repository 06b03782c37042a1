// SPDX-License-Identifier: Apache-2.0
// The DDPM / ADM U-Net (Ho et al. 2020; Nichol & Dhariwal 2021; Dhariwal & Nichol 2021).
#include "unet.h"

#include <difflab/base/error.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <string>

namespace difflab::plugins {

using nn::module_list;

param_spec<unet::options> unet::params() {
    param_spec<options> spec{
        "DDPM/ADM U-Net (Ho et al. 2020; Nichol & Dhariwal 2021; Dhariwal & Nichol 2021), as improved-diffusion's "
        "UNetModel."};
    spec.add(&options::in_channels, "in_channels", "Channels of the noisy image x_t.", at_least<std::int64_t>(1));
    unet_parts::add_unet_params(spec,
                                "Input height/width that attention_resolutions refers to (level l is ceil(image_size "
                                "/ 2^l)); inputs of other sizes run with attention at the same levels.");
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
    const std::int64_t ch = opts_.channels, emb = 4 * ch;
    const unet_parts::path_layout layout =
        unet_parts::plan_paths(ch, opts_.channel_mult, opts_.num_res_blocks, opts_.image_size);
    const unet_parts::block_options blocks = unet_parts::block_options::of("unet", opts_, base);
    const auto conv = [&](const std::string& path, std::int64_t in, std::int64_t out) {
        return std::make_shared<nn::conv2d>(in, out, 3, conv_options{1, 1}, true, layer_seed(base, path));
    };

    time_embed_ = register_module(
        "time_embed", std::make_shared<unet_parts::time_embedding>(ch, opts_.time_scale, base, "time_embed"));
    if (opts_.num_classes > 0)
        class_embed_ = register_module("class_embed", std::make_shared<nn::embedding>(opts_.num_classes + 1, emb,
                                                                                      layer_seed(base, "class_embed")));
    conv_in_ = register_module("conv_in", conv("conv_in", input_channels(), ch));
    down_ = unet_parts::build_path(*register_module("down", std::make_shared<module_list>()), "down", layout.down,
                                   layout.sizes, blocks);
    mid_ = unet_parts::middle::build(*register_module("mid", std::make_shared<module_list>()), layout.middle_channels,
                                     layout.sizes.back(), blocks);
    up_ = unet_parts::build_path(*register_module("up", std::make_shared<module_list>()), "up", layout.up, layout.sizes,
                                 blocks);

    const std::int64_t last = layout.up.back().out_channels;
    out_norm_ = register_module("out_norm", std::make_shared<nn::group_norm>(opts_.groups, last));
    conv_out_ = register_module("conv_out", conv("conv_out", last, output_channels()));
    unet_parts::zero_parameters(*conv_out_);
}

tensor unet::input(const tensor& x, const condition& cond) const {
    if (!x.defined() || x.dim() != 4 || x.size(1) != opts_.in_channels)
        throw error(fmt::format("unet: expected x [N, {}, H, W] (in_channels), got {}", opts_.in_channels,
                                x.defined() ? shape_text(x.shape()) : std::string("an undefined tensor")));
    return unet_parts::join_condition_channels("unet", x, cond.channels, opts_.extra_in_channels,
                                               "the conditioning image", "x's batch size and image size");
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
    unet_parts::check_noise("unet", noise, n);

    tensor emb = time_embed_->forward(noise);
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
        h = down_[i].forward(h, emb_silu);
        skips.push_back(h);
        tap(fmt::format("encoder.{}", i), h);
    }
    h = mid_.res_2->forward(mid_.attn->forward(mid_.res_1->forward(h, emb_silu)), emb_silu);
    tap("middle", h);
    for (std::size_t i = 0; i < up_.size(); ++i) {
        h = up_[i].forward(concat({h, skips.back()}, 1), emb_silu);
        skips.pop_back();
        tap(fmt::format("decoder.{}", i), h);
        if (up_[i].upsample) h = up_[i].upsampled(h, skips.back());
    }
    return conv_out_->forward(group_norm_silu(h, opts_.groups, out_norm_->weight, out_norm_->bias)).contiguous();
}

}  // namespace difflab::plugins
