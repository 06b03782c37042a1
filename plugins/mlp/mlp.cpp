// SPDX-License-Identifier: Apache-2.0
// The time-conditioned MLP for low-dimensional data.
#include "mlp.h"

#include <difflab/base/error.h>
#include <difflab/tensor/network_parts.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>
#include <string>

namespace difflab::plugins {

namespace {}  // namespace

param_spec<mlp::options> mlp::params() {
    param_spec<options> spec{"Time-conditioned MLP for points [N, in_dim] (toy 2-D data)."};
    spec.add(&options::in_dim, "in_dim", "Dimension of a data point (input and output).", at_least<std::int64_t>(1));
    spec.add(&options::hidden, "hidden", "Width of the hidden layers and of the time embedding.",
             at_least<std::int64_t>(2));
    spec.add(&options::layers, "layers", "Hidden layers (each hidden -> hidden, after adding the embedding).",
             at_least<std::int64_t>(1));
    spec.add(&options::time_scale, "time_scale",
             "The noise input is multiplied by this before the sinusoidal embedding (1000: t in [0, 1] spread as "
             "DDPM's timesteps, so the embedding's frequencies resolve it).",
             greater_than(0.0));
    spec.add(&options::num_classes, "num_classes",
             "Classes for class conditioning (0: unconditional, labels ignored); id num_classes is the null class "
             "of classifier-free guidance.",
             at_least<std::int64_t>(0));
    spec.add(&options::seed, "seed", "Seed of the initial weights; -1 takes the experiment's seed.",
             at_least<std::int64_t>(-1));
    return spec;
}

mlp::mlp(const options& opts, build_context& ctx) : opts_(opts) {
    const std::uint64_t base = opts_.seed >= 0 ? static_cast<std::uint64_t>(opts_.seed) : ctx.seed();
    const std::int64_t hidden = opts_.hidden;
    const auto linear = [&](const std::string& path, std::int64_t in, std::int64_t out) {
        return std::make_shared<nn::linear>(in, out, true, layer_seed(base, path));
    };
    auto time_embed = register_module("time_embed", std::make_shared<nn::module_list>());
    time_linear_1_ = time_embed->add("linear_1", linear("time_embed.linear_1", hidden, hidden));
    time_linear_2_ = time_embed->add("linear_2", linear("time_embed.linear_2", hidden, hidden));
    if (opts_.num_classes > 0)
        class_embed_ = register_module("class_embed", std::make_shared<nn::embedding>(opts_.num_classes + 1, hidden,
                                                                                      layer_seed(base, "class_embed")));
    in_proj_ = register_module("in_proj", linear("in_proj", opts_.in_dim, hidden));
    auto layers = register_module("layers", std::make_shared<nn::module_list>());
    for (std::int64_t l = 0; l < opts_.layers; ++l) {
        const std::string index = std::to_string(l);
        layers_.push_back(layers->add(index, linear("layers." + index, hidden, hidden)));
    }
    out_proj_ = register_module("out_proj", linear("out_proj", hidden, opts_.in_dim));
}

tensor mlp::forward(const tensor& x, const tensor& noise, const condition& cond) {
    if (!x.defined() || x.dim() != 2 || x.size(1) != opts_.in_dim)
        throw error(fmt::format("mlp: expected x [N, {}] (in_dim), got {}", opts_.in_dim,
                                x.defined() ? shape_text(x.shape()) : std::string("an undefined tensor")));
    const std::int64_t n = x.size(0);
    if (!noise.defined() || noise.numel() != n)
        throw error(fmt::format("mlp: expected one noise input per example ([{}]), got {}", n,
                                noise.defined() ? shape_text(noise.shape()) : std::string("an undefined tensor")));
    if (cond.channels.defined())
        throw error(
            fmt::format("mlp: got condition channels {}, but an mlp takes no extra input; condition it on "
                        "labels, or use a network with extra_in_channels (unet)",
                        shape_text(cond.channels.shape())));
    refuse_context("mlp", cond);
    refuse_clean_mask("mlp", cond);
    const tensor& labels = cond.labels;
    tensor emb = time_linear_2_->forward(
        silu(time_linear_1_->forward(timestep_embedding(noise, opts_.hidden, opts_.time_scale))));
    if (class_embed_) {
        if (labels.defined() && labels.numel() != n)
            throw error(
                fmt::format("mlp: expected one label per example ([{}]), got {}", n, shape_text(labels.shape())));
        const tensor ids =
            labels.defined() ? labels.reshape({n}) : tensor::full({n}, static_cast<float>(opts_.num_classes));
        emb = emb + class_embed_->forward(ids);
    }
    tensor h = in_proj_->forward(x);
    for (auto& layer : layers_) h = layer->forward(silu(h + emb));
    return out_proj_->forward(silu(h));
}

}  // namespace difflab::plugins
