// SPDX-License-Identifier: Apache-2.0
// A time-conditioned MLP: the network of low-dimensional (toy, point cloud) diffusion models.
#pragma once

#include <difflab/diffusion/network.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/nn.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace difflab::plugins {

/// A denoising MLP for points x [N, in_dim], as the toy models of Ho et al. 2020 ("Denoising
/// diffusion probabilistic models") and Song et al. 2021 ("Score-based generative modeling
/// through stochastic differential equations") use for 2-D data: the noise input (times
/// time_scale) through a sinusoidal embedding and a two-layer MLP to `hidden` features (plus a
/// class embedding with a null class when class-conditional), added before every hidden layer:
///     h = in_proj(x);  h = layer_l(silu(h + emb)) for l < layers;  out = out_proj(silu(h)).
/// Weights initialize as PyTorch's linear layers. One forward is one denoiser evaluation.
class mlp final : public network {
public:
    struct options {
        std::int64_t in_dim = 2;
        std::int64_t hidden = 256;
        std::int64_t layers = 3;
        double time_scale = 1000.0;
        std::int64_t num_classes = 0;
        std::int64_t seed = -1;
    };
    static param_spec<options> params();
    mlp(const options& opts, build_context& ctx);

    /// x [N, in_dim], noise [N], cond.labels [N] (or undefined: the null class) -> [N, in_dim].
    /// Condition channels and a cross-attention context are refused.
    tensor forward(const tensor& x, const tensor& noise, const condition& cond) override;

    const options& config() const { return opts_; }

private:
    options opts_;
    std::shared_ptr<nn::linear> time_linear_1_, time_linear_2_, in_proj_, out_proj_;
    std::vector<std::shared_ptr<nn::linear>> layers_;
    std::shared_ptr<nn::embedding> class_embed_;
};

}  // namespace difflab::plugins
