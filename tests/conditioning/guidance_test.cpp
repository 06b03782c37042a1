// SPDX-License-Identifier: Apache-2.0
// Guidance operators on real networks: gradients through a classifier and through a denoiser
// against finite differences, guidance inside a sampler, dynamic thresholding and schedules.
#include <difflab/diffusion/classifier_guidance.h>
#include <difflab/diffusion/dynamic_thresholding.h>
#include <difflab/diffusion/guidance_schedule.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace difflab;

namespace {

/// A tiny noise-aware classifier whose (zero-initialized) head is given random weights, so that
/// its logits, and their gradients, are not all zero.
std::unique_ptr<network> tiny_classifier() {
    auto net = testing::make<network>(
        "{type: classifier, in_channels: 1, channels: 8, groups: 4, channel_mult: [1], num_res_blocks: 1, "
        "image_size: 4, attention_resolutions: [], num_classes: 3, seed: 2}");
    for (auto& [name, parameter] : net->named_parameters())
        if (name.rfind("head", 0) == 0)
            parameter.copy_(randn(parameter.shape(), 9, random_purpose("test/head")) * 0.5f);
    net->eval();
    return net;
}

/// Central differences of f along each coordinate of x (one example).
std::vector<double> central_differences(const std::function<double(const tensor&)>& f, const tensor& x, double h) {
    std::vector<float> values = x.contiguous().to_vector();
    std::vector<double> out;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const float keep = values[i];
        values[i] = keep + static_cast<float>(h);
        const double up = f(tensor::from_vector(x.shape(), values));
        values[i] = keep - static_cast<float>(h);
        const double down = f(tensor::from_vector(x.shape(), values));
        values[i] = keep;
        out.push_back((up - down) / (2 * h));
    }
    return out;
}

double max_relative_gap(const std::vector<float>& got, const std::vector<double>& expected) {
    double gap = 0, scale = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
        gap = std::max(gap, std::abs(got[i] - expected[i]));
        scale = std::max(scale, std::abs(expected[i]));
    }
    return gap / scale;
}

}  // namespace

TEST_CASE("a noisy classifier's guidance gradient is grad log p(y | x_t), by central differences") {
    const auto net = tiny_classifier();
    const network_class_log_likelihood likelihood(*net);
    const tensor x = randn({1, 1, 4, 4}, 3, random_purpose("test/x"));
    const tensor label = tensor::from_vector({1}, {2.0f});
    const double t = 0.4;
    const auto log_p = [&](const tensor& input) {
        no_grad_guard no_grad;
        const tensor logits = net->forward(input, tensor::full({1}, static_cast<float>(t)), condition{});
        return -static_cast<double>(cross_entropy(logits, label).to_vector()[0]);
    };
    no_grad_guard sampling;  // as inside a sampler: the gradient records its own graph
    const std::vector<float> gradient = likelihood.gradient(x, t, label).to_vector();
    CHECK(max_relative_gap(gradient, central_differences(log_p, x, 1e-2)) < 2e-2);
    // Batch independence: the same example in a batch of two, next to another, has the same gradient.
    const tensor pair = concat({randn({1, 1, 4, 4}, 4, random_purpose("test/x")), x}, 0);
    const std::vector<float> both =
        likelihood.gradient(pair, t, tensor::from_vector({2}, {0.0f, 2.0f})).slice(0, 1, 2).contiguous().to_vector();
    for (std::size_t i = 0; i < both.size(); ++i) CHECK(both[i] == doctest::Approx(gradient[i]).epsilon(1e-4));
}

TEST_CASE("a network denoiser's vector-Jacobian product matches central differences of its estimate") {
    const auto net = testing::make<network>("{type: mlp, in_dim: 3, hidden: 16, layers: 2, seed: 5}");
    net->eval();
    const auto p = testing::make<process>("{type: vp_sde}");
    const network_denoiser d(*net, *p, prediction::eps);
    const tensor x = randn({1, 3}, 1, random_purpose("test/x"));
    const tensor v = tensor::from_vector({1, 3}, {0.3f, -1.0f, 0.7f});
    const double t = 0.5;
    no_grad_guard sampling;
    const std::vector<float> vjp = d.x0_vjp(x, t, v).to_vector();
    // (J^T v)_i = d/dx_i <v, x0(x)>.
    const auto projected = [&](const tensor& input) {
        const std::vector<float> x0 = d.x0(input, t).to_vector(), w = v.to_vector();
        double dot = 0;
        for (std::size_t i = 0; i < x0.size(); ++i) dot += static_cast<double>(x0[i]) * w[i];
        return dot;
    };
    CHECK(max_relative_gap(vjp, central_differences(projected, x, 1e-2)) < 1e-2);
}

TEST_CASE("classifier guidance runs inside a sampler, at scale 0 the samples are the unguided ones, bit for bit") {
    const auto classifier_net = tiny_classifier();
    const network_class_log_likelihood likelihood(*classifier_net);
    const auto net = testing::make<network>(
        "{type: unet, in_channels: 1, channels: 8, groups: 4, channel_mult: [1], num_res_blocks: 1, image_size: 4, "
        "attention_resolutions: [], seed: 3}");
    net->eval();
    const auto p = testing::make<process>("{type: ddpm, steps: 100}");
    const auto ddim = testing::make<sampler>("{type: ddim, steps: 4}");
    const network_denoiser d(*net, *p, prediction::eps);
    const tensor labels = tensor::from_vector({2}, {0.0f, 1.0f});
    const tensor x_T = randn({2, 1, 4, 4}, 1, random_purpose("test/prior"));
    const sampling_context ctx;
    const tensor plain = ddim->sample(d, x_T, ctx);
    const classifier_guidance off(d, likelihood, labels, guidance_schedule{0.0});
    const tensor unguided = ddim->sample(off, x_T, ctx);
    CHECK(std::memcmp(plain.to_vector().data(), unguided.to_vector().data(), plain.numel() * sizeof(float)) == 0);
    const classifier_guidance on(d, likelihood, labels, guidance_schedule{10.0});
    CHECK(testing::relative_error(ddim->sample(on, x_T, ctx), plain) > 1e-3);
    CHECK(grad_enabled());  // nothing leaked out of the sampler's and the guidance's guards
}

TEST_CASE("dynamic thresholding: per sample, clamp at the percentile of |x0| (at least 1) and rescale") {
    struct fixed final : denoiser {
        explicit fixed(const process& p) : denoiser(p) {}
        tensor denoise(const tensor&, double) const override {
            return tensor::from_vector({2, 4}, {0.5f, -3.0f, 2.0f, 1.0f, 0.2f, -0.4f, 0.9f, 0.0f});
        }
    };
    const auto p = testing::make<process>("{type: vp_sde}");
    const fixed inner(*p);
    const std::vector<float> all = dynamic_thresholding(inner, 1.0).x0(tensor::zeros({2, 4}), 0.5).to_vector();
    // Row 0: s = 3 (the maximum); row 1 stays inside [-1, 1], s = 1 leaves it.
    const std::vector<float> expected{0.5f / 3, -1.0f, 2.0f / 3, 1.0f / 3, 0.2f, -0.4f, 0.9f, 0.0f};
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i] == doctest::Approx(expected[i]));
    // The 0.5 quantile of {0.5, 3, 2, 1} by linear interpolation is 1.5.
    const std::vector<float> half = dynamic_thresholding(inner, 0.5).x0(tensor::zeros({2, 4}), 0.5).to_vector();
    CHECK(half[0] == doctest::Approx(0.5 / 1.5));
    CHECK(half[1] == doctest::Approx(-1.0));
    CHECK(half[2] == doctest::Approx(1.0));
    CHECK_THROWS_AS(dynamic_thresholding(inner, 0.0), config_error);
}

TEST_CASE("a guidance schedule: constant, linear and inverse over its window, 0 outside") {
    guidance_schedule s{2.0, 0.2, 0.6, "constant"};
    CHECK(s.at(0.1) == 0.0);
    CHECK(s.at(0.4) == 2.0);
    CHECK(s.at(0.7) == 0.0);
    s.shape = "linear";
    CHECK(s.at(0.5) == doctest::Approx(1.5));
    s.shape = "inverse";
    CHECK(s.at(0.5) == doctest::Approx(0.5));
    CHECK(!s.active(0.61));
}
