// SPDX-License-Identifier: Apache-2.0
// The parts of the diffusion U-Net: residual block, attention block, timestep embedding, seeds.
#include "unet_blocks.h"

#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace difflab::plugins::unet_parts {

void zero_parameters(module& m) {
    no_grad_guard guard;
    for (tensor& p : m.parameters()) p.fill_(0.0f);
}

res_block::res_block(std::int64_t in_channels, std::int64_t out_channels, std::int64_t emb_channels,
                     std::int64_t groups, bool scale_shift_norm, double dropout, std::uint64_t base_seed,
                     const std::string& path)
    : out_channels_(out_channels), groups_(groups), scale_shift_(scale_shift_norm) {
    const auto seed = [&](const char* name) { return layer_seed(base_seed, path + "." + name); };
    in_norm_ = register_module("in_norm", std::make_shared<nn::group_norm>(groups, in_channels));
    in_conv_ = register_module("in_conv", std::make_shared<nn::conv2d>(in_channels, out_channels, 3, conv_options{1, 1},
                                                                       true, seed("in_conv")));
    // emb_channels 0: a block without an embedding (a classifier that is not time-conditioned).
    if (emb_channels > 0)
        emb_proj_ = register_module(
            "emb_proj", std::make_shared<nn::linear>(emb_channels, scale_shift_norm ? 2 * out_channels : out_channels,
                                                     true, seed("emb_proj")));
    out_norm_ = register_module("out_norm", std::make_shared<nn::group_norm>(groups, out_channels));
    dropout_ = register_module("dropout", std::make_shared<nn::dropout>(static_cast<float>(dropout), seed("dropout")));
    out_conv_ = register_module("out_conv", std::make_shared<nn::conv2d>(out_channels, out_channels, 3,
                                                                         conv_options{1, 1}, true, seed("out_conv")));
    zero_parameters(*out_conv_);
    if (in_channels != out_channels)
        skip_ = register_module(
            "skip", std::make_shared<nn::conv2d>(in_channels, out_channels, 1, conv_options{}, true, seed("skip")));
}

tensor res_block::forward(const tensor& x, const tensor& emb_silu) {
    const std::int64_t n = x.size(0);
    tensor h = in_conv_->forward(group_norm_silu(x, groups_, in_norm_->weight, in_norm_->bias));
    const tensor e = emb_proj_ ? emb_proj_->forward(emb_silu) : tensor();
    if (!emb_proj_) {
        h = group_norm_silu(h, groups_, out_norm_->weight, out_norm_->bias);
    } else if (scale_shift_) {
        // AdaGN (Dhariwal & Nichol 2021, section 3): the first half scales, the second shifts.
        const std::vector<tensor> parts = split(e, {out_channels_, out_channels_}, 1);
        const tensor scale = parts[0].reshape({n, out_channels_, 1, 1});
        const tensor shift = parts[1].reshape({n, out_channels_, 1, 1});
        h = silu(group_norm(h, groups_, out_norm_->weight, out_norm_->bias) * (scale + 1.0f) + shift);
    } else {
        h = group_norm_silu(h + e.reshape({n, out_channels_, 1, 1}), groups_, out_norm_->weight, out_norm_->bias);
    }
    h = dropout_->forward(h);
    // The skip sum rides on the last convolution as a post-op: one pass less over the output.
    return conv2d_add(h, out_conv_->weight, out_conv_->bias, skip_ ? skip_->forward(x) : x, conv_options{1, 1});
}

attention_projections::attention_projections(std::int64_t channels, std::int64_t heads, std::int64_t groups,
                                             std::uint64_t base_seed, const std::string& path)
    : heads_(heads), groups_(groups) {
    const auto projection = [&](const char* name) {
        return register_module(
            name, std::make_shared<nn::linear>(channels, channels, true, layer_seed(base_seed, path + "." + name)));
    };
    norm_ = register_module("norm", std::make_shared<nn::group_norm>(groups, channels));
    to_q_ = projection("to_q");
    to_k_ = projection("to_k");
    to_v_ = projection("to_v");
    to_out_ = projection("to_out");
    zero_parameters(*to_out_);
}

tensor attention_block::forward(const tensor& x) {
    const std::int64_t n = x.size(0), c = x.size(1), height = x.size(2), width = x.size(3);
    // A channels-last map is already [N, H*W, C] tokens in memory: the permute and reshape are views.
    const tensor tokens =
        group_norm(x, groups_, norm_->weight, norm_->bias).permute({0, 2, 3, 1}).reshape({n, height * width, c});
    const tensor mixed = attention(to_q_->forward(tokens), to_k_->forward(tokens), to_v_->forward(tokens), heads_);
    const tensor out = to_out_->forward(mixed).view({n, height, width, c}).permute({0, 3, 1, 2});
    return x + out;
}

time_embedding::time_embedding(std::int64_t channels, double time_scale, std::uint64_t base_seed,
                               const std::string& path)
    : channels_(channels), time_scale_(time_scale) {
    const std::int64_t width = 4 * channels;
    linear_1_ = register_module(
        "linear_1", std::make_shared<nn::linear>(channels, width, true, layer_seed(base_seed, path + ".linear_1")));
    linear_2_ = register_module(
        "linear_2", std::make_shared<nn::linear>(width, width, true, layer_seed(base_seed, path + ".linear_2")));
}

tensor time_embedding::forward(const tensor& noise) {
    return linear_2_->forward(silu(linear_1_->forward(timestep_embedding(noise, channels_, time_scale_))));
}

path_layout plan_paths(std::int64_t channels, const std::vector<std::int64_t>& channel_mult,
                       std::int64_t num_res_blocks, std::int64_t image_size) {
    path_layout layout;
    layout.sizes = level_sizes(image_size, channel_mult.size());
    // The channel count of every skip the down path leaves, in order, for the up path to read.
    std::vector<std::int64_t> skips{channels};
    std::int64_t current = channels;
    for (std::size_t level = 0; level < channel_mult.size(); ++level) {
        const std::int64_t width = channels * channel_mult[level];
        for (std::int64_t b = 0; b < num_res_blocks; ++b) {
            layout.down.push_back({level, current, width});
            current = width;
            skips.push_back(current);
        }
        if (level + 1 < channel_mult.size()) {
            layout.down.push_back({level, current, current, true});
            skips.push_back(current);
        }
    }
    layout.middle_channels = current;
    for (std::size_t level = channel_mult.size(); level-- > 0;) {
        const std::int64_t width = channels * channel_mult[level];
        for (std::int64_t b = 0; b <= num_res_blocks; ++b) {
            layout.up.push_back({level, current + skips.back(), width, false, level > 0 && b == num_res_blocks});
            skips.pop_back();
            current = width;
        }
    }
    return layout;
}

bool at_resolution(const std::vector<std::int64_t>& resolutions, std::int64_t size, bool empty_means_all) {
    if (resolutions.empty()) return empty_means_all;
    return std::find(resolutions.begin(), resolutions.end(), size) != resolutions.end();
}

namespace {

stage build_stage(nn::module_list& holder, const path_entry& entry, std::int64_t size, const block_options& o,
                  const std::string& path) {
    const auto conv = [&](const char* name, std::int64_t stride) {
        return holder.add(
            name, std::make_shared<nn::conv2d>(entry.out_channels, entry.out_channels, 3, conv_options{stride, 1}, true,
                                               layer_seed(o.base_seed, path + "." + name)));
    };
    stage s;
    if (entry.downsample) {
        s.downsample = conv("downsample", 2);
        return s;
    }
    s.res =
        holder.add("res", std::make_shared<res_block>(entry.in_channels, entry.out_channels, o.emb_channels, o.groups,
                                                      o.scale_shift_norm, o.dropout, o.base_seed, path + ".res"));
    if (at_resolution(o.attention_resolutions, size)) {
        const std::int64_t heads = attention_heads(o.network, entry.out_channels, size, o.num_heads, o.head_channels);
        s.attn = holder.add("attn", std::make_shared<attention_block>(entry.out_channels, heads, o.groups, o.base_seed,
                                                                      path + ".attn"));
    }
    if (entry.upsample) s.upsample = conv("upsample", 1);
    return s;
}

}  // namespace

std::vector<stage> build_path(nn::module_list& path, const std::string& name, const std::vector<path_entry>& entries,
                              const std::vector<std::int64_t>& sizes, const block_options& options) {
    std::vector<stage> stages;
    for (const path_entry& e : entries) {
        const std::string index = std::to_string(stages.size());
        auto holder = path.add(index, std::make_shared<nn::module_list>());
        stages.push_back(build_stage(*holder, e, sizes[e.level], options, name + "." + index));
        stages.back().holder = holder;
    }
    return stages;
}

tensor stage::forward(const tensor& h, const tensor& emb_silu) const {
    if (downsample) return downsample->forward(h);
    const tensor out = res->forward(h, emb_silu);
    return attn ? attn->forward(out) : out;
}

tensor stage::upsampled(const tensor& h, const tensor& skip) const {
    // To the next skip's size: x2 when the sizes halved evenly, and odd sizes still meet.
    return upsample->forward(interpolate(h, {skip.size(2), skip.size(3)}, "nearest"));
}

middle middle::build(nn::module_list& holder, std::int64_t channels, std::int64_t size, const block_options& o) {
    const auto res = [&](const char* name) {
        return holder.add(name,
                          std::make_shared<res_block>(channels, channels, o.emb_channels, o.groups, o.scale_shift_norm,
                                                      o.dropout, o.base_seed, std::string("mid.") + name));
    };
    middle m;
    m.res_1 = res("res_1");
    const std::int64_t heads = attention_heads(o.network, channels, size, o.num_heads, o.head_channels);
    m.attn = holder.add("attn", std::make_shared<attention_block>(channels, heads, o.groups, o.base_seed, "mid.attn"));
    m.res_2 = res("res_2");
    return m;
}

void check_noise(const char* network, const tensor& noise, std::int64_t n) {
    if (!noise.defined() || noise.numel() != n)
        throw error(fmt::format("{}: expected one noise input per example ([{}]), got {}", network, n,
                                noise.defined() ? shape_text(noise.shape()) : std::string("an undefined tensor")));
}

tensor join_condition_channels(const char* network, const tensor& x, const tensor& channels, std::int64_t extra,
                               const char* what, const char* fit) {
    shape_t expected = x.shape();
    expected[1] = extra;
    if (!channels.defined()) {
        if (extra == 0) return x;
        throw error(
            fmt::format("{}: expected condition channels {} (extra_in_channels {}), got none; pass {} as "
                        "condition.channels or set extra_in_channels: 0",
                        network, shape_text(expected), extra, what));
    }
    const bool rank_fits = channels.dim() == x.dim();
    if (extra == 0)
        throw error(fmt::format("{}: got condition channels {}, but extra_in_channels is 0; set extra_in_channels: {}",
                                network, shape_text(channels.shape()), rank_fits ? channels.size(1) : 1));
    if (channels.shape() != expected)
        throw error(fmt::format("{}: expected condition channels {} (extra_in_channels {}), got {}; {}", network,
                                shape_text(expected), extra, shape_text(channels.shape()),
                                rank_fits && channels.size(1) != extra
                                    ? fmt::format("set extra_in_channels: {}", channels.size(1))
                                    : fmt::format("give them {}", fit)));
    return concat({x, channels}, 1);
}

std::vector<std::int64_t> level_sizes(std::int64_t image_size, std::size_t levels) {
    std::vector<std::int64_t> sizes{image_size};
    while (sizes.size() < levels) sizes.push_back((sizes.back() + 1) / 2);
    return sizes;
}

void check_layout(const char* network, std::int64_t channels, std::int64_t groups,
                  const std::vector<std::int64_t>& channel_mult, const std::vector<std::int64_t>& attention_resolutions,
                  std::int64_t image_size) {
    if (channel_mult.empty())
        throw config_error(fmt::format("{}: channel_mult must list at least one level (e.g. [1, 2, 2])", network));
    // Every group norm sees channels x mult (or a sum of such counts at a skip concatenation),
    // all multiples of `channels`; conv_in's output, normalized by the first block, is channels itself.
    if (channels % groups != 0) {
        std::int64_t fit = groups;
        while (channels % fit != 0) --fit;
        throw config_error(
            fmt::format("{}: groups {} does not divide channels {}; group normalization needs every channel count "
                        "(channels x channel_mult) divisible by groups: set groups to a divisor of {} (e.g. {})",
                        network, groups, channels, channels, fit));
    }
    check_resolutions(network, "attention_resolutions", attention_resolutions, image_size, channel_mult.size());
}

void check_resolutions(const char* network, const char* option, const std::vector<std::int64_t>& resolutions,
                       std::int64_t image_size, std::size_t levels) {
    const std::vector<std::int64_t> sizes = level_sizes(image_size, levels);
    for (std::int64_t r : resolutions)
        if (!at_resolution(sizes, r))
            throw config_error(
                fmt::format("{}: {} lists {}, which is not a feature-map size of a {}x{} input with {} levels ({}); "
                            "pick from those sizes, or set image_size to the data's size",
                            network, option, r, image_size, image_size, sizes.size(), fmt::join(sizes, ", ")));
}

std::int64_t attention_heads(const char* network, std::int64_t channels, std::int64_t size, std::int64_t num_heads,
                             std::int64_t head_channels) {
    if (head_channels > 0) {
        if (channels % head_channels != 0)
            throw config_error(
                fmt::format("{}: the attention at {}x{} has {} channels, which do not split into heads of "
                            "head_channels {}; pick head_channels dividing {}",
                            network, size, size, channels, head_channels, channels));
        return channels / head_channels;
    }
    if (channels % num_heads != 0)
        throw config_error(
            fmt::format("{}: the attention at {}x{} has {} channels, which do not split into num_heads {}; "
                        "pick num_heads dividing {}",
                        network, size, size, channels, num_heads, channels));
    return num_heads;
}

}  // namespace difflab::plugins::unet_parts
