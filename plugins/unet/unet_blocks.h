// SPDX-License-Identifier: Apache-2.0
// The parts of the diffusion U-Net: residual and attention blocks, time embedding, the layout of its paths.
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

/// What an attention block of the U-Net owns: a group norm ("norm") and q, k, v and output
/// projections ("to_q", "to_k", "to_v", "to_out"; biased, as diffusers' U-Net attention; the
/// output one zero-initialized, as improved-diffusion's proj_out, so a fresh block is the
/// identity). The spatial and the temporal attention block (temporal_attention.h) differ only
/// in the tokens they attend over.
class attention_projections : public module {
protected:
    attention_projections(std::int64_t channels, std::int64_t heads, std::int64_t groups, std::uint64_t base_seed,
                          const std::string& path);

    std::int64_t heads_, groups_;
    std::shared_ptr<nn::group_norm> norm_;
    std::shared_ptr<nn::linear> to_q_, to_k_, to_v_, to_out_;
};

/// Self-attention over the H * W positions of a feature map with a residual (Ho et al. 2020,
/// after Wang et al. 2018, "Non-local neural networks"): group norm, multi-head scaled
/// dot-product attention with the projections above, residual add.
class attention_block : public attention_projections {
public:
    attention_block(std::int64_t channels, std::int64_t heads, std::int64_t groups, std::uint64_t base_seed,
                    const std::string& path)
        : attention_projections(channels, heads, groups, base_seed, path) {}
    tensor forward(const tensor& x);
};

/// The time embedding of the DDPM U-Net (Ho et al. 2020, after Vaswani et al. 2017): the
/// sinusoidal embedding (width `channels`) of noise x time_scale, then linear to 4 x channels,
/// SiLU, linear; its layers are "linear_1" and "linear_2", as improved-diffusion's time_embed.
class time_embedding : public module {
public:
    time_embedding(std::int64_t channels, double time_scale, std::uint64_t base_seed, const std::string& path);
    /// noise [N] -> [N, 4 x channels].
    tensor forward(const tensor& noise);

private:
    std::int64_t channels_;
    double time_scale_;
    std::shared_ptr<nn::linear> linear_1_, linear_2_;
};

/// One entry of a U-Net's down or up path in the DDPM / ADM layout: a residual block from
/// `in_channels` (on the up path, h and the skip it reads, joined) to `out_channels`, or (on
/// the down path) a strided conv alone; an up entry may end in an upsampling conv.
struct path_entry {
    std::size_t level = 0;
    std::int64_t in_channels = 0, out_channels = 0;
    bool downsample = false;  ///< a strided 3x3 conv, no residual block
    bool upsample = false;    ///< nearest upsampling and a 3x3 conv after the block
};

/// Both paths of the U-Net as improved-diffusion's UNetModel lays them out: per level
/// `num_res_blocks` blocks and a downsampling conv between levels; a middle at the last
/// level's width; per level, from the last, `num_res_blocks + 1` blocks, each reading the skip
/// its mirror on the down path left, with upsampling between levels. The unet and the unet3d
/// build their modules from it, so their paths cannot drift apart.
struct path_layout {
    std::vector<std::int64_t> sizes;  ///< feature-map side per level, for an image_size input
    std::vector<path_entry> down, up;
    std::int64_t middle_channels = 0;
};
path_layout plan_paths(std::int64_t channels, const std::vector<std::int64_t>& channel_mult,
                       std::int64_t num_res_blocks, std::int64_t image_size);

/// Whether `size` is listed in `resolutions`, or `resolutions` is empty and `empty_means_all`.
bool at_resolution(const std::vector<std::int64_t>& resolutions, std::int64_t size, bool empty_means_all = false);

/// What the residual and attention blocks of a U-Net share besides their channel counts.
struct block_options {
    const char* network = "unet";  ///< named in configuration errors
    std::int64_t emb_channels = 0, groups = 32, num_heads = 1, head_channels = 0;
    bool scale_shift_norm = false;
    double dropout = 0.0;
    std::uint64_t base_seed = 0;
    std::vector<std::int64_t> attention_resolutions;

    /// From a network's options (unet's and those of its variants), whose blocks read a time
    /// embedding of 4 x channels; weights under `base_seed`.
    template <class Options>
    static block_options of(const char* network, const Options& o, std::uint64_t base_seed) {
        return {network,     4 * o.channels,  o.groups,
                o.num_heads, o.head_channels, o.scale_shift_norm,
                o.dropout,   base_seed,       o.attention_resolutions};
    }
};

/// The modules of one path entry; those it lacks are null.
struct stage {
    std::shared_ptr<nn::module_list> holder;  ///< holds the modules below (a variant adds its own)
    std::shared_ptr<res_block> res;
    std::shared_ptr<attention_block> attn;
    std::shared_ptr<nn::conv2d> downsample, upsample;

    /// The residual block and its attention, or the downsampling conv, on h [N, C, H, W].
    tensor forward(const tensor& h, const tensor& emb_silu) const;
    /// The upsampling of an entry that has one: h resized (nearest) to `skip`'s H x W, then the conv.
    tensor upsampled(const tensor& h, const tensor& skip) const;
};

/// Builds the entries of a path into `path` ("down" or "up", named `name`) as "0", "1", ...,
/// each holding "res" and "attn", "downsample" or "upsample", with weights from the streams
/// under their module paths ("down.1.downsample").
std::vector<stage> build_path(nn::module_list& path, const std::string& name, const std::vector<path_entry>& entries,
                              const std::vector<std::int64_t>& sizes, const block_options& options);

/// The middle of the U-Net: residual block, self-attention, residual block ("res_1", "attn",
/// "res_2", added to `holder`).
struct middle {
    std::shared_ptr<res_block> res_1, res_2;
    std::shared_ptr<attention_block> attn;

    static middle build(nn::module_list& holder, std::int64_t channels, std::int64_t size,
                        const block_options& options);
};

/// Throws, naming `network`, unless noise is one value per example ([n]).
void check_noise(const char* network, const tensor& noise, std::int64_t n);

/// x with `channels` (condition.channels) joined after it along dimension 1, unscaled: c_in has
/// scaled x_t only (condition.h). Throws, naming `network`, when they are missing though
/// `extra` (extra_in_channels) > 0, present though it is 0, or not shaped as x but for their
/// count; `what` names them in the message ("the conditioning image") and `fit` what they must
/// share with x ("x's batch size and image size").
tensor join_condition_channels(const char* network, const tensor& x, const tensor& channels, std::int64_t extra,
                               const char* what, const char* fit);

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

/// Adds the options of the unet and its variants (unet3d) from out_channels on: the shared ones
/// above, the levels, the input size that attention sizes refer to (described by
/// `image_size_text`) and the time embedding; each network adds its own after them.
template <class Options>
void add_unet_params(param_spec<Options>& spec, const char* image_size_text) {
    spec.add(&Options::out_channels, "out_channels", "Channels of the prediction; 0 means in_channels.",
             at_least<std::int64_t>(0));
    add_shared_params(spec);
    spec.add(&Options::channel_mult, "channel_mult",
             "Width multiplier per level; each level after the first halves the feature map (ceil).",
             at_least<std::int64_t>(1));
    spec.add(&Options::num_res_blocks, "num_res_blocks",
             "Residual blocks per level on the down path (the up path has one more).", at_least<std::int64_t>(1));
    spec.add(&Options::image_size, "image_size", image_size_text, at_least<std::int64_t>(1));
    spec.add(&Options::time_scale, "time_scale",
             "The noise input is multiplied by this before the sinusoidal embedding (1000: DDPM's timesteps from "
             "t in [0, 1]).",
             greater_than(0.0));
    spec.add(&Options::scale_shift_norm, "scale_shift_norm",
             "AdaGN (Dhariwal & Nichol 2021): the time embedding scales and shifts after the norm instead of adding "
             "a bias before it.");
}

/// Feature-map side at each level: a 3x3 conv with stride 2 and padding 1 maps s to ceil(s / 2).
std::vector<std::int64_t> level_sizes(std::int64_t image_size, std::size_t levels);

/// Throws a config_error naming `network` and the option (attention_resolutions, ...) when a
/// size it lists is no feature-map size of an image_size input with `levels` levels.
void check_resolutions(const char* network, const char* option, const std::vector<std::int64_t>& resolutions,
                       std::int64_t image_size, std::size_t levels);

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
