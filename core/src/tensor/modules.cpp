// SPDX-License-Identifier: Apache-2.0
// Standard layer modules over nn_ops.h and ops.h, initialized as PyTorch initializes them.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab::nn {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw error("" + what);
}

void check_positive(const char* layer, const char* what, std::int64_t value) {
    if (value <= 0) fail(fmt::format("{}: {} must be positive, got {}", layer, what, value));
}

/// U(-bound, bound) with row i along dim 0 from stream (seed, purpose, i).
tensor uniform_init(const shape_t& shape, double bound, std::uint64_t seed, const char* purpose) {
    tensor u = rand(shape, seed, random_purpose(purpose));
    float* p = u.data<float>();
    for (std::int64_t i = 0; i < u.numel(); ++i) p[i] = static_cast<float>((2.0 * p[i] - 1.0) * bound);
    return u;
}

/// kaiming_uniform_(a = sqrt(5)) gives bound gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + 5)),
/// which is 1 / sqrt(fan_in); PyTorch's default bias bound is the same.
double default_bound(std::int64_t fan_in) {
    return 1.0 / std::sqrt(static_cast<double>(fan_in));
}

}  // namespace

linear::linear(std::int64_t in_features, std::int64_t out_features, bool with_bias, std::uint64_t seed) {
    check_positive("linear", "in_features", in_features);
    check_positive("linear", "out_features", out_features);
    const double bound = default_bound(in_features);
    weight = register_parameter("weight", uniform_init({out_features, in_features}, bound, seed, "init.weight"));
    if (with_bias) bias = register_parameter("bias", uniform_init({out_features}, bound, seed, "init.bias"));
}

tensor linear::forward(const tensor& x) {
    return difflab::linear(x, weight, bias);
}

namespace {

/// Kaiming-uniform weight [out, in / groups, k, ...] (`spatial_dims` kernel dims) and bias [out]
/// of a convolution, as torch.nn.Conv2d/Conv3d initialize them.
std::pair<tensor, tensor> conv_parameters(const char* layer, std::int64_t in_channels, std::int64_t out_channels,
                                          std::int64_t kernel, std::int64_t spatial_dims, const conv_options& opts,
                                          bool with_bias, std::uint64_t seed) {
    check_positive(layer, "in_channels", in_channels);
    check_positive(layer, "out_channels", out_channels);
    check_positive(layer, "kernel", kernel);
    check_positive(layer, "groups", opts.groups);
    if (in_channels % opts.groups != 0 || out_channels % opts.groups != 0)
        fail(fmt::format("{}: channels {} -> {} are not divisible by groups {}", layer, in_channels, out_channels,
                         opts.groups));
    shape_t shape{out_channels, in_channels / opts.groups};
    std::int64_t fan_in = in_channels / opts.groups;
    for (std::int64_t d = 0; d < spatial_dims; ++d) {
        shape.push_back(kernel);
        fan_in *= kernel;
    }
    const double bound = default_bound(fan_in);
    return {uniform_init(shape, bound, seed, "init.weight"),
            with_bias ? uniform_init({out_channels}, bound, seed, "init.bias") : tensor()};
}

}  // namespace

conv2d::conv2d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel, const conv_options& opts,
               bool with_bias, std::uint64_t seed)
    : options(opts) {
    auto [w, b] = conv_parameters("conv2d", in_channels, out_channels, kernel, 2, opts, with_bias, seed);
    weight = register_parameter("weight", w);
    if (with_bias) bias = register_parameter("bias", b);
}

tensor conv2d::forward(const tensor& x) {
    return difflab::conv2d(x, weight, bias, options);
}

conv3d::conv3d(std::int64_t in_channels, std::int64_t out_channels, std::int64_t kernel, const conv_options& opts,
               bool with_bias, std::uint64_t seed)
    : options(opts) {
    auto [w, b] = conv_parameters("conv3d", in_channels, out_channels, kernel, 3, opts, with_bias, seed);
    weight = register_parameter("weight", w);
    if (with_bias) bias = register_parameter("bias", b);
}

tensor conv3d::forward(const tensor& x) {
    return difflab::conv3d(x, weight, bias, options);
}

group_norm::group_norm(std::int64_t groups_, std::int64_t channels, float eps_) : groups(groups_), eps(eps_) {
    check_positive("group_norm", "groups", groups_);
    check_positive("group_norm", "channels", channels);
    if (channels % groups_ != 0)
        fail(fmt::format("group_norm: {} channels are not divisible into {} groups", channels, groups_));
    weight = register_parameter("weight", tensor::ones({channels}));
    bias = register_parameter("bias", tensor::zeros({channels}));
}

tensor group_norm::forward(const tensor& x) {
    return difflab::group_norm(x, groups, weight, bias, eps);
}

batch_norm::batch_norm(std::int64_t features, float momentum_, float eps_) : momentum(momentum_), eps(eps_) {
    check_positive("batch_norm", "features", features);
    if (!(momentum_ >= 0.0f && momentum_ <= 1.0f))
        fail(fmt::format("batch_norm: momentum {} is outside [0, 1]", momentum_));
    weight = register_parameter("weight", tensor::ones({features}));
    bias = register_parameter("bias", tensor::zeros({features}));
    running_mean = register_buffer("running_mean", tensor::zeros({features}));
    running_var = register_buffer("running_var", tensor::ones({features}));
}

tensor batch_norm::forward(const tensor& x) {
    if (x.dim() != 2 || x.size(1) != weight.size(0))
        fail(fmt::format("batch_norm: expects x [N, {}], got {}", weight.size(0), shape_text(x.shape())));
    const std::int64_t features = weight.size(0);
    if (!training()) {
        // (x - mean) / sqrt(var + eps) * weight + bias as one scale and shift per feature.
        const tensor scale = weight / sqrt(running_var + eps);
        return x * scale.reshape({1, features}) + (bias - running_mean * scale).reshape({1, features});
    }
    if (x.size(0) < 2) fail("batch_norm: training needs at least 2 rows to estimate a variance");
    const tensor mean = difflab::mean(x, {0}, true), centered = x - mean;
    const tensor variance = difflab::mean(centered * centered, {0}, true);
    {
        const no_grad_guard no_grad;
        const float n = static_cast<float>(x.size(0));
        running_mean.copy_(running_mean * (1 - momentum) + mean.detach().reshape({features}) * momentum);
        running_var.copy_(running_var * (1 - momentum) + variance.detach().reshape({features}) * (momentum * n / (n - 1)));
    }
    return centered / sqrt(variance + eps) * weight.reshape({1, features}) + bias.reshape({1, features});
}

layer_norm::layer_norm(std::int64_t features, float eps_) : eps(eps_) {
    check_positive("layer_norm", "features", features);
    weight = register_parameter("weight", tensor::ones({features}));
    bias = register_parameter("bias", tensor::zeros({features}));
}

tensor layer_norm::forward(const tensor& x) {
    return difflab::layer_norm(x, weight, bias, eps);
}

embedding::embedding(std::int64_t num, std::int64_t dim, std::uint64_t seed) {
    check_positive("embedding", "num", num);
    check_positive("embedding", "dim", dim);
    weight = register_parameter("weight", randn({num, dim}, seed, random_purpose("init.weight")));
}

tensor embedding::forward(const tensor& ids) {
    return difflab::embedding(weight, ids);
}

dropout::dropout(float p_, std::uint64_t seed) : p(p_), seed_(seed) {
    if (!(p_ >= 0.0f && p_ < 1.0f)) fail(fmt::format("dropout: probability {} is outside [0, 1)", p_));
}

tensor dropout::forward(const tensor& x) {
    if (!training() || p == 0.0f) return x;
    return difflab::dropout(x, p, true, seed_, first_index_, step_++);
}

void set_dropout_stream(module& m, std::uint64_t step, std::uint64_t first_index) {
    if (auto* layer = dynamic_cast<dropout*>(&m)) layer->set_stream(step, first_index);
    for (const auto& child : m.children()) set_dropout_stream(*child.second, step, first_index);
}

sequential::sequential(std::vector<std::shared_ptr<unary_module>> layers) {
    for (auto& layer : layers) append(std::move(layer));
}

void sequential::append(std::shared_ptr<unary_module> layer) {
    register_module(std::to_string(layers_.size()), layer);
    layers_.push_back(std::move(layer));
}

tensor sequential::forward(const tensor& x) {
    tensor y = x;
    for (auto& layer : layers_) y = layer->forward(y);
    return y;
}

}  // namespace difflab::nn
