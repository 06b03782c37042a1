// SPDX-License-Identifier: Apache-2.0
// The parts of the diffusion U-Net: residual block with a time embedding, attention block.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/tensor/module.h>
#include <difflab/tensor/network_parts.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace difflab::plugins::unet_parts {

/// Zeroes every parameter of a module: the output layer of each residual branch starts as
/// the identity, as improved-diffusion's zero_module (Nichol & Dhariwal 2021).
void zero_parameters(module& m);

/// The residual block of the DDPM / ADM U-Net (Ho et al. 2020; Dhariwal & Nichol 2021, "Diffusion
/// models beat GANs on image synthesis", section 3): norm, SiLU, conv 3x3, plus a projection of the
/// time embedding, norm, SiLU, dropout, conv 3x3 (zero-initialized), plus a 1x1 skip when the
/// channel count changes. With `scale_shift_norm` the embedding gives a scale and a shift applied
/// after the second norm (AdaGN: norm(h) (1 + scale) + shift) instead of a bias added before it.
/// With emb_channels 0 the block has no embedding projection and takes an undefined emb_silu.
class res_block : public module {
public:
    res_block(std::int64_t in_channels, std::int64_t out_channels, std::int64_t emb_channels, std::int64_t groups,
              bool scale_shift_norm, double dropout, std::uint64_t base_seed, const std::string& path);
    /// x [N, in, H, W] (channels-last), emb_silu = silu(time embedding) [N, emb_channels]
    /// (ignored when emb_channels is 0).
    tensor forward(const tensor& x, const tensor& emb_silu);

private:
    std::int64_t out_channels_, groups_;
    bool scale_shift_;
    std::shared_ptr<nn::group_norm> in_norm_, out_norm_;
    std::shared_ptr<nn::conv2d> in_conv_, out_conv_, skip_;
    std::shared_ptr<nn::linear> emb_proj_;
    std::shared_ptr<nn::dropout> dropout_;
};

/// Self-attention over the H * W positions of a feature map with a residual (Ho et al. 2020,
/// after Wang et al. 2018, "Non-local neural networks"): group norm, multi-head scaled
/// dot-product attention with q, k, v and output projections (biased, as diffusers' U-Net
/// attention; the output one zero-initialized, as improved-diffusion's proj_out).
class attention_block : public module {
public:
    attention_block(std::int64_t channels, std::int64_t heads, std::int64_t groups, std::uint64_t base_seed,
                    const std::string& path);
    tensor forward(const tensor& x);

private:
    std::int64_t heads_, groups_;
    std::shared_ptr<nn::group_norm> norm_;
    std::shared_ptr<nn::linear> to_q_, to_k_, to_v_, to_out_;
};

/// Adds the options the U-Net and its encoder (the classifier) share, with the same meaning:
/// width, attention and regularization.
template <class Options>
void add_shared_params(param_spec<Options>& spec) {
    spec.add(&Options::channels, "channels", "Base width: channels of conv_in and of level 0 (x channel_mult).",
             at_least<std::int64_t>(1));
    spec.add(&Options::attention_resolutions, "attention_resolutions",
             "Feature-map sizes (of an image_size input) whose blocks get self-attention, e.g. [14, 7]; the middle "
             "block always has it.",
             at_least<std::int64_t>(1));
    spec.add(&Options::num_heads, "num_heads", "Attention heads (when head_channels is 0).", at_least<std::int64_t>(1));
    spec.add(&Options::head_channels, "head_channels",
             "Channels per attention head (heads = channels / head_channels); 0 uses num_heads.",
             at_least<std::int64_t>(0));
    spec.add(&Options::dropout, "dropout", "Dropout probability inside residual blocks (training only).",
             constraint<double>{"[0, 1)", [](const double& p) { return p >= 0.0 && p < 1.0; }});
    spec.add(&Options::groups, "groups", "Group-norm groups; must divide channels.", at_least<std::int64_t>(1));
}

/// Feature-map side at each level: a 3x3 conv with stride 2 and padding 1 maps s to ceil(s / 2).
std::vector<std::int64_t> level_sizes(std::int64_t image_size, std::size_t levels);

/// Throws a config_error naming `network` (unet, classifier) when the levels do not fit: no
/// level, groups not dividing channels, an attention resolution that is no feature-map size.
void check_layout(const char* network, std::int64_t channels, std::int64_t groups,
                  const std::vector<std::int64_t>& channel_mult, const std::vector<std::int64_t>& attention_resolutions,
                  std::int64_t image_size);

/// Heads for an attention block over `channels` channels at a size x size map: channels /
/// head_channels when that is set, else num_heads; a count that does not divide is a
/// config_error naming `network`.
std::int64_t attention_heads(const char* network, std::int64_t channels, std::int64_t size, std::int64_t num_heads,
                             std::int64_t head_channels);

}  // namespace difflab::plugins::unet_parts
