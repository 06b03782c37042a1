// SPDX-License-Identifier: Apache-2.0
// Modules: naming, modes, state dicts with exact errors, PyTorch-style initialization, and
// finite-difference gradients of every layer module.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/ops.h>
#include <doctest/doctest.h>

#include <cmath>

#include "gradcheck.h"
#include "ops_testing.h"

using namespace difflab;
using difflab::testing::gradcheck;
using difflab::testing::sample;

namespace {

/// A small residual block, to see nested names ("blocks.0.conv.weight").
class block : public unary_module {
public:
    explicit block(std::uint64_t seed) {
        norm = register_module("norm", std::make_shared<nn::group_norm>(2, 4));
        conv = register_module("conv", std::make_shared<nn::conv2d>(4, 4, 3, conv_options{1, 1, 1, 1}, true, seed));
        scale = register_buffer("scale", tensor::full({1}, 0.5f));
    }
    tensor forward(const tensor& x) override { return x + conv->forward(silu(norm->forward(x))) * scale; }
    std::shared_ptr<nn::group_norm> norm;
    std::shared_ptr<nn::conv2d> conv;
    tensor scale;
};

class model : public unary_module {
public:
    model() {
        blocks = register_module("blocks", std::make_shared<nn::sequential>());
        blocks->add(std::make_shared<block>(1));
        blocks->add(std::make_shared<block>(2));
        drop = register_module("drop", std::make_shared<nn::dropout>(0.5f, 3));
    }
    tensor forward(const tensor& x) override { return drop->forward(blocks->forward(x)); }
    std::shared_ptr<nn::sequential> blocks;
    std::shared_ptr<nn::dropout> drop;
};

}  // namespace

TEST_CASE("modules name parameters and buffers with dots") {
    model m;
    std::vector<std::string> names;
    for (auto& [name, p] : m.named_parameters()) {
        names.push_back(name);
        CHECK(p.requires_grad());
    }
    CHECK(names == std::vector<std::string>{"blocks.0.norm.weight", "blocks.0.norm.bias", "blocks.0.conv.weight",
                                            "blocks.0.conv.bias", "blocks.1.norm.weight", "blocks.1.norm.bias",
                                            "blocks.1.conv.weight", "blocks.1.conv.bias"});
    CHECK(m.named_buffers().size() == 2);
    CHECK(m.state_dict().count("blocks.1.scale") == 1);
    CHECK(m.parameter_count() == 2 * (4 + 4 + 4 * 4 * 9 + 4));
    m.eval();
    CHECK_FALSE(m.blocks->training());
    CHECK_FALSE((*m.blocks)[1]->training());
    m.train();
    CHECK(m.drop->training());
}

TEST_CASE("state dicts round-trip and reject mismatches by name") {
    model a, b;
    // Different seeds for the second model's convolutions.
    b.blocks->children()[0].second->named_parameters()[2].second.fill_(0.25f);
    a.load_state_dict(b.state_dict());
    for (auto& [name, value] : a.state_dict()) CHECK(value.to_vector() == b.state_dict().at(name).to_vector());
    // Loading copies: the models do not share memory afterwards.
    CHECK_FALSE(
        a.state_dict().at("blocks.0.conv.weight").shares_storage_with(b.state_dict().at("blocks.0.conv.weight")));

    state_dict_t missing = b.state_dict();
    missing.erase("blocks.1.conv.bias");
    CHECK_THROWS_WITH_AS(a.load_state_dict(missing),
                         "error: load_state_dict: key 'blocks.1.conv.bias' ([4]) is missing from the state; it was "
                         "saved from a different model",
                         error);
    state_dict_t extra = b.state_dict();
    extra["head.weight"] = tensor::zeros({2, 2});
    CHECK_THROWS_WITH_AS(a.load_state_dict(extra),
                         "error: load_state_dict: unexpected key 'head.weight' [2, 2] (the model has no such parameter "
                         "or buffer); load with strict = false to ignore it",
                         error);
    a.load_state_dict(extra, false);
    state_dict_t wrong = b.state_dict();
    wrong["blocks.0.norm.weight"] = tensor::zeros({5});
    CHECK_THROWS_WITH_AS(a.load_state_dict(wrong),
                         "error: load_state_dict: key 'blocks.0.norm.weight' has shape [5] in the state but [4] in "
                         "the model",
                         error);
}

TEST_CASE("layers initialize like PyTorch, reproducibly from their seed") {
    nn::linear big(400, 300, true, 11);
    const double bound = 1.0 / std::sqrt(400.0);
    const std::vector<float> w = big.weight.to_vector();
    double sum = 0, sum_sq = 0;
    for (float v : w) {
        CHECK(std::fabs(v) <= bound);
        sum += v;
        sum_sq += static_cast<double>(v) * v;
    }
    const double n = static_cast<double>(w.size());
    // U(-b, b): mean 0, variance b^2 / 3 (120000 draws: tolerances are many standard errors).
    CHECK(std::fabs(sum / n) < 0.01 * bound);
    CHECK(sum_sq / n == doctest::Approx(bound * bound / 3).epsilon(0.02));
    for (float v : big.bias.to_vector()) CHECK(std::fabs(v) <= bound);
    nn::linear same(400, 300, true, 11), other(400, 300, true, 12);
    CHECK(same.weight.to_vector() == w);
    CHECK(other.weight.to_vector() != w);
    nn::conv2d conv(8, 16, 3, {}, false, 5);
    CHECK(conv.weight.shape() == shape_t{16, 8, 3, 3});
    CHECK_FALSE(conv.bias.defined());
    for (float v : conv.weight.to_vector()) CHECK(std::fabs(v) <= 1.0 / std::sqrt(72.0));
    nn::group_norm gn(4, 8);
    CHECK(gn.weight.to_vector() == std::vector<float>(8, 1.0f));
    CHECK(gn.bias.to_vector() == std::vector<float>(8, 0.0f));
    CHECK_THROWS_WITH_AS(nn::group_norm(3, 8), "error: group_norm: 8 channels are not divisible into 3 groups", error);
    CHECK_THROWS_AS(nn::conv2d(3, 8, 3, conv_options{1, 0, 1, 2}, true, 1), error);
}

TEST_CASE("dropout modules draw a new mask each step and stop in eval mode") {
    nn::dropout drop(0.5f, 9);
    tensor x = tensor::ones({4, 64});
    const std::vector<float> first = drop.forward(x).to_vector();
    const std::vector<float> second = drop.forward(x).to_vector();
    CHECK(first != second);
    CHECK(drop.step() == 2);
    drop.set_stream(0);
    CHECK(drop.forward(x).to_vector() == first);
    drop.eval();
    CHECK(drop.forward(x).shares_storage_with(x));
}

TEST_CASE("set_dropout_stream keys every dropout layer by step and data position") {
    nn::sequential net;
    auto a = net.add(std::make_shared<nn::dropout>(0.5f, 1));
    auto inner = net.add(std::make_shared<nn::sequential>());
    auto b = inner->add(std::make_shared<nn::dropout>(0.5f, 2));
    const tensor x = tensor::ones({4, 32});
    nn::set_dropout_stream(net, 7, 100);
    CHECK(a->step() == 7);
    CHECK(b->step() == 7);
    const std::vector<float> at_7 = net.forward(x).to_vector();
    (void)net.forward(x);
    nn::set_dropout_stream(net, 7, 100);
    CHECK(net.forward(x).to_vector() == at_7);
    // Rows 2 and 3 of the batch at position 100 are rows 0 and 1 of a batch at position 102.
    nn::set_dropout_stream(net, 7, 102);
    CHECK(net.forward(x.slice(0, 0, 2)).to_vector() == std::vector<float>(at_7.begin() + 2 * 32, at_7.end()));
}

TEST_CASE("layer modules pass finite-difference gradient checks") {
    using difflab::testing::gradcheck_options;
    gradcheck_options loose;
    loose.atol = 3e-3;
    loose.rtol = 3e-2;
    SUBCASE("linear, batch 1 and a strided input") {
        nn::linear layer(3, 2, true, 1);
        auto f = [&](const std::vector<tensor>& in) {
            layer.weight = in[1];
            layer.bias = in[2];
            return layer.forward(in[0]);
        };
        auto r = gradcheck(f, {sample({1, 3}), layer.weight, layer.bias});
        CHECK_MESSAGE(r.ok, r.report);
        auto rs = gradcheck(f, {sample({3, 2, 4}).transpose(0, 2), layer.weight, layer.bias});
        CHECK_MESSAGE(rs.ok, rs.report);
    }
    SUBCASE("conv2d, channels-last") {
        nn::conv2d layer(2, 3, 3, conv_options{1, 1, 1, 1}, true, 2);
        auto f = [&](const std::vector<tensor>& in) {
            layer.weight = in[1];
            layer.bias = in[2];
            return layer.forward(in[0]);
        };
        auto r = gradcheck(f, {sample({1, 2, 4, 4}).to_channels_last(), layer.weight, layer.bias}, loose);
        CHECK_MESSAGE(r.ok, r.report);
    }
    SUBCASE("conv3d") {
        nn::conv3d layer(2, 2, 3, conv_options{1, 1, 1, 1}, true, 3);
        auto f = [&](const std::vector<tensor>& in) {
            layer.weight = in[1];
            layer.bias = in[2];
            return layer.forward(in[0]);
        };
        auto r = gradcheck(f, {sample({1, 2, 3, 3, 3}), layer.weight, layer.bias}, loose);
        CHECK_MESSAGE(r.ok, r.report);
    }
    SUBCASE("group_norm and layer_norm") {
        nn::group_norm gn(2, 4);
        auto f = [&](const std::vector<tensor>& in) {
            gn.weight = in[1];
            gn.bias = in[2];
            return gn.forward(in[0]);
        };
        auto r = gradcheck(f, {sample({2, 4, 3, 3}), sample({4}, 0.5f, 1.5f, 1), sample({4}, -1, 1, 2)}, loose);
        CHECK_MESSAGE(r.ok, r.report);
        nn::layer_norm ln(5);
        auto g = [&](const std::vector<tensor>& in) {
            ln.weight = in[1];
            ln.bias = in[2];
            return ln.forward(in[0]);
        };
        auto rl = gradcheck(g, {sample({3, 5}), sample({5}, 0.5f, 1.5f, 1), sample({5}, -1, 1, 2)}, loose);
        CHECK_MESSAGE(rl.ok, rl.report);
    }
    SUBCASE("batch_norm") {
        nn::batch_norm bn(3);
        auto f = [&](const std::vector<tensor>& in) {
            bn.weight = in[1];
            bn.bias = in[2];
            return bn.forward(in[0]);
        };
        auto r = gradcheck(f, {sample({5, 3}), sample({3}, 0.5f, 1.5f, 1), sample({3}, -1, 1, 2)}, loose);
        CHECK_MESSAGE(r.ok, r.report);
    }
    SUBCASE("embedding") {
        nn::embedding table(4, 3, 4);
        const tensor ids = tensor::from_vector({2, 3}, {0, 3, 3, 1, 0, 2});
        auto f = [&](const std::vector<tensor>& in) {
            table.weight = in[0];
            return table.forward(ids);
        };
        auto r = gradcheck(f, {table.weight});
        CHECK_MESSAGE(r.ok, r.report);
    }
    SUBCASE("sequential of nested blocks") {
        nn::sequential net;
        net.add(std::make_shared<nn::linear>(4, 6, true, 5));
        net.add(std::make_shared<nn::layer_norm>(6));
        net.add(std::make_shared<nn::linear>(6, 2, true, 6));
        auto f = [&](const std::vector<tensor>& in) { return net.forward(in[0]); };
        auto r = gradcheck(f, {sample({2, 4})}, loose);
        CHECK_MESSAGE(r.ok, r.report);
        // Parameter gradients through the whole chain reach every leaf.
        sum(net.forward(sample({2, 4}))).backward();
        for (auto& [name, p] : net.named_parameters()) CHECK_MESSAGE(p.grad().defined(), name);
    }
}

TEST_CASE("batch_norm: batch statistics in training, running statistics (torch's momentum rule) in eval") {
    nn::batch_norm bn(2, 0.25f, 0.0f);
    // Feature 0: 1, 2, 3, 6 (mean 3, biased variance 3.5, unbiased 14/3); feature 1 constant 4.
    const tensor x = tensor::from_vector({4, 2}, {1, 4, 2, 4, 3, 4, 6, 4});
    const std::vector<float> y = bn.forward(x).to_vector();
    const float sd = std::sqrt(3.5f);
    CHECK(y[0] == doctest::Approx(-2 / sd).epsilon(1e-6));
    CHECK(y[6] == doctest::Approx(3 / sd).epsilon(1e-6));
    // Running statistics: (1 - 0.25) * (0, 1) + 0.25 * (mean, unbiased variance).
    CHECK(bn.running_mean.to_vector()[0] == doctest::Approx(0.75f));
    CHECK(bn.running_mean.to_vector()[1] == doctest::Approx(1.0f));
    CHECK(bn.running_var.to_vector()[0] == doctest::Approx(0.75f + 0.25f * 14.0f / 3.0f));
    CHECK(bn.running_var.to_vector()[1] == doctest::Approx(0.75f));
    // They are buffers: saved, not trained.
    CHECK(bn.state_dict().count("running_var") == 1);
    CHECK(bn.parameters().size() == 2);
    bn.eval();
    bn.weight.copy_(tensor::from_vector({2}, {2, 1}));
    bn.bias.copy_(tensor::from_vector({2}, {1, 0}));
    const std::vector<float> z = bn.forward(tensor::from_vector({1, 2}, {2, 4})).to_vector();
    CHECK(z[0] == doctest::Approx((2 - 0.75f) / std::sqrt(0.75f + 0.25f * 14.0f / 3.0f) * 2 + 1).epsilon(1e-6));
    CHECK(z[1] == doctest::Approx((4 - 1.0f) / std::sqrt(0.75f)).epsilon(1e-6));
    CHECK_THROWS_WITH_AS(bn.forward(tensor::zeros({2, 3})), doctest::Contains("expects x [N, 2]"), error);
}
