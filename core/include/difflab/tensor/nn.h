// SPDX-License-Identifier: Apache-2.0
// Standard layers as modules: linear, convolutions, normalizations, embedding, dropout, sequential.
#pragma once

#include <difflab/tensor/module.h>
#include <difflab/tensor/nn_ops.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace difflab::nn {

// Weights initialize as PyTorch's layers do: kaiming-uniform with a = sqrt(5), i.e.
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Values
// come from Philox streams (seed, "init.weight"/"init.bias", row): give each layer its own seed.

/// y = x W^T + b, x [..., in] (torch.nn.Linear).
class linear : public unary_module {
public:
    linear(std::int64_t in_features, std::int64_t out_features, bool bias, std::uint64_t seed);
    tensor forward(const tensor& x) override;
    tensor weight;  ///< [out, in]
    tensor bias;    ///< [out] or undefined
};

/// 2-D convolution, x [N, C, H, W] (torch.nn.Conv2d); keeps x's layout (use channels-last).
class conv2d : public unary_module {
public:
    conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel, const conv_options& options,
           bool bias, std::uint64_t seed);
    tensor forward(const tensor& x) override;
    conv_options options;
    tensor weight;  ///< [out, in / groups, k, k]
    tensor bias;    ///< [out] or undefined
};

/// 3-D convolution, x [N, C, D, H, W] (torch.nn.Conv3d).
class conv3d : public unary_module {
public:
    conv3d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel, const conv_options& options,
           bool bias, std::uint64_t seed);
    tensor forward(const tensor& x) override;
    conv_options options;
    tensor weight;  ///< [out, in / groups, k, k, k]
    tensor bias;
};

/// Group normalization (Wu & He 2018) with a per-channel affine: weight 1, bias 0.
class group_norm : public unary_module {
public:
    group_norm(std::int64_t groups, std::int64_t channels, float eps = 1e-5f);
    tensor forward(const tensor& x) override;
    std::int64_t groups;
    float eps;
    tensor weight;
    tensor bias;
};

/// Batch normalization (Ioffe & Szegedy 2015) of x [N, F] per feature, as torch.nn.BatchNorm1d:
/// in training the batch's mean and biased variance normalize, and the running statistics (buffers
/// running_mean 0, running_var 1) move by `momentum` toward the batch's mean and unbiased variance;
/// in eval the running statistics normalize. Affine weight 1, bias 0.
class batch_norm : public unary_module {
public:
    explicit batch_norm(std::int64_t features, float momentum = 0.1f, float eps = 1e-5f);
    tensor forward(const tensor& x) override;
    float momentum;
    float eps;
    tensor weight;
    tensor bias;
    tensor running_mean;
    tensor running_var;
};

/// Layer normalization (Ba et al. 2016) over the last dimension, affine weight 1, bias 0.
class layer_norm : public unary_module {
public:
    explicit layer_norm(std::int64_t features, float eps = 1e-5f);
    tensor forward(const tensor& x) override;
    float eps;
    tensor weight;
    tensor bias;
};

/// A lookup table [num, dim] initialized N(0, 1) (torch.nn.Embedding); forward takes ids.
class embedding : public unary_module {
public:
    embedding(std::int64_t num, std::int64_t dim, std::uint64_t seed);
    tensor forward(const tensor& ids) override;
    tensor weight;
};

/// A module that only holds named submodules ("down" -> "0", "1", ...), as torch.nn.ModuleList.
class module_list : public module {
public:
    template <class M>
    std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> child) {
        return register_module(name, std::move(child));
    }
};

/// Inverted dropout (Srivastava et al. 2014), active in training mode only. Row i of a batch
/// draws its mask from the Philox stream (seed, "dropout", first_index + i, step), and each
/// training forward advances step by one, so a rerun from the same seed repeats the masks.
class dropout : public unary_module {
public:
    dropout(float p, std::uint64_t seed);
    tensor forward(const tensor& x) override;
    /// Positions the mask stream: the next forward uses `step`, its rows `first_index` on.
    void set_stream(std::uint64_t step, std::uint64_t first_index = 0) {
        step_ = step;
        first_index_ = first_index;
    }
    std::uint64_t step() const { return step_; }
    float p;

private:
    std::uint64_t seed_;
    std::uint64_t step_ = 0;
    std::uint64_t first_index_ = 0;
};

/// Keys the masks of every dropout layer inside `m` by the training step and the batch's
/// position in the data stream, as the training loop does before each step: a run resumed from
/// a checkpoint then draws the masks of an uninterrupted run, whatever ran before it.
void set_dropout_stream(module& m, std::uint64_t step, std::uint64_t first_index);

/// Modules applied in order, named "0", "1", ... (torch.nn.Sequential).
class sequential : public unary_module {
public:
    sequential() = default;
    explicit sequential(std::vector<std::shared_ptr<unary_module>> layers);
    /// Appends a layer and returns it.
    template <class M>
    std::shared_ptr<M> add(std::shared_ptr<M> layer) {
        append(layer);
        return layer;
    }
    tensor forward(const tensor& x) override;
    std::size_t size() const { return layers_.size(); }
    const std::shared_ptr<unary_module>& operator[](std::size_t i) const { return layers_.at(i); }

private:
    void append(std::shared_ptr<unary_module> layer);
    std::vector<std::shared_ptr<unary_module>> layers_;
};

}  // namespace difflab::nn
