// SPDX-License-Identifier: Apache-2.0
// Tests of the mlp network: shapes, parameter counts and names, determinism, PyTorch parity.
#include "mlp.h"

#include <difflab/io/safetensors.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/network_testing.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

using namespace difflab;
using difflab::plugins::mlp;
using difflab::testing::build;
using difflab::testing::relative_error;

namespace {

tensor points(std::int64_t n, std::int64_t dim, std::uint64_t seed = 5) {
    return randn({n, dim}, seed, random_purpose("mlp_test.x"));
}

tensor times(std::int64_t n) {
    return rand({n}, 9, random_purpose("mlp_test.t"));
}

/// Compares an mlp built from tests/fixtures/torch/<name>.safetensors (written by
/// tools/bench/unet_reference.py) with PyTorch's output and gradients.
void check_against_torch(const std::string& name) {
    CAPTURE(name);
    const testing::torch_fixture f(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/torch/" + name + ".safetensors");
    mlp net = build<mlp>(f.options);
    const std::map<std::string, double> errors = testing::compare_with_torch(net, f);
    for (const auto& [what, error] : errors) {
        MESSAGE(name << ": " << what << " relative error " << error);
        CHECK(error <= 1e-4);
    }
    CHECK(errors.size() >= 4);  // the output and at least three gradients
}

}  // namespace

TEST_CASE("mlp output shape is the input's, with and without classes") {
    mlp plain = build<mlp>("{in_dim: 3, hidden: 16, layers: 2}");
    CHECK(plain.forward(points(7, 3), times(7), {}).shape() == shape_t{7, 3});
    mlp cond = build<mlp>("{in_dim: 2, hidden: 16, num_classes: 4}");
    CHECK(cond.forward(points(5, 2), times(5), condition::from_labels(tensor::from_vector({5}, {0, 1, 2, 3, 4})))
              .shape() == shape_t{5, 2});
}

TEST_CASE("mlp parameter counts equal PyTorch's and names follow the module paths") {
    // From `/usr/bin/python3 tools/bench/unet_reference.py --counts`.
    CHECK(build<mlp>("{}").parameter_count() == 330242);
    CHECK(build<mlp>("{hidden: 128, layers: 4, num_classes: 8}").parameter_count() == 100866);
    const state_dict_t state = build<mlp>("{in_dim: 3, hidden: 16, layers: 2, num_classes: 4}").state_dict();
    const std::map<std::string, shape_t> expected{
        {"time_embed.linear_1.weight", {16, 16}},
        {"time_embed.linear_2.bias", {16}},
        {"class_embed.weight", {5, 16}},
        {"in_proj.weight", {16, 3}},
        {"layers.0.weight", {16, 16}},
        {"layers.1.bias", {16}},
        {"out_proj.weight", {3, 16}},
        {"out_proj.bias", {3}},
    };
    CHECK(state.size() == 2 * 6 + 1);
    for (const auto& [name, shape] : expected) {
        CAPTURE(name);
        REQUIRE(state.count(name) == 1);
        CHECK(state.at(name).shape() == shape);
    }
}

TEST_CASE("mlp matches PyTorch: output and gradients") {
    check_against_torch("mlp");
}

TEST_CASE("mlp matches PyTorch: class-conditional with the null class, time_scale 1") {
    check_against_torch("mlp_class");
}

TEST_CASE("mlp weights: the same seed gives the same weights, another seed others") {
    const state_dict_t a = build<mlp>("{hidden: 16, seed: 2}").state_dict();
    const state_dict_t b = build<mlp>("{hidden: 16, seed: 2}").state_dict();
    const state_dict_t c = build<mlp>("{hidden: 16, seed: 3}").state_dict();
    const state_dict_t d = build<mlp>("{hidden: 16}").state_dict();  // the test context's seed, 0
    const state_dict_t e = build<mlp>("{hidden: 16, seed: 0}").state_dict();
    for (const auto& [name, value] : a) {
        CAPTURE(name);
        CHECK(value.to_vector() == b.at(name).to_vector());
        CHECK(value.to_vector() != c.at(name).to_vector());
        CHECK(d.at(name).to_vector() == e.at(name).to_vector());
    }
    CHECK(a.at("layers.0.weight").to_vector() != a.at("layers.1.weight").to_vector());
}

TEST_CASE("mlp row i of a batch equals that row run alone, no labels means the null class") {
    mlp net = build<mlp>("{hidden: 32, num_classes: 3}");
    no_grad_guard guard;
    const tensor x = points(6, 2), t = times(6);
    const condition labels = condition::from_labels(tensor::from_vector({6}, {0, 1, 2, 3, 0, 3}));
    const tensor batch = net.forward(x, t, labels);
    for (std::int64_t i = 0; i < 6; ++i) {
        CAPTURE(i);
        const tensor alone = net.forward(x.slice(0, i, i + 1), t.slice(0, i, i + 1), labels.rows(i, 1));
        CHECK(relative_error(alone, batch.slice(0, i, i + 1)) <= 1e-5);
    }
    CHECK(net.forward(x, t, {}).to_vector() ==
          net.forward(x, t, condition::from_labels(tensor::full({6}, 3.0f))).to_vector());
    CHECK(relative_error(net.forward(x, t, condition::from_labels(tensor::full({6}, 1.0f))), net.forward(x, t, {})) >
          1e-3);
}

TEST_CASE("mlp forward rejects inputs that do not fit") {
    mlp net = build<mlp>("{hidden: 8}");
    CHECK_THROWS_WITH_AS(net.forward(points(2, 3), times(2), {}), "error: mlp: expected x [N, 2] (in_dim), got [2, 3]",
                         error);
    CHECK_THROWS_WITH_AS(net.forward(points(2, 2), times(1), {}),
                         "error: mlp: expected one noise input per example ([2]), got [1]", error);
    condition image;
    image.channels = points(2, 2);
    CHECK_THROWS_WITH_AS(net.forward(points(2, 2), times(2), image),
                         "error: mlp: got condition channels [2, 2], but an mlp takes no extra input; condition it on "
                         "labels, or use a network with extra_in_channels (unet)",
                         error);
    condition tokens;
    tokens.context = tensor::zeros({2, 3, 4});
    CHECK_THROWS_WITH_AS(net.forward(points(2, 2), times(2), tokens),
                         "error: mlp: got a cross-attention context [2, 3, 4], but mlp has no cross-attention; leave "
                         "condition.context undefined",
                         error);
}

TEST_CASE("mlp learns a denoiser: Adam fits eps-prediction on a fixed 2-D batch") {
    // x0 on a circle of radius 1, eps-prediction at one noise level: the loss starts near
    // E|eps|^2 / 2 = 1 per coordinate and must fall well below it.
    mlp net = build<mlp>("{hidden: 64, layers: 2, seed: 1}");
    optim::adam opt(net.parameters(), {5e-3f});
    std::vector<float> circle;
    for (int i = 0; i < 64; ++i) {
        const double a = 2 * M_PI * i / 64;
        circle.push_back(static_cast<float>(std::cos(a)));
        circle.push_back(static_cast<float>(std::sin(a)));
    }
    const tensor x0 = tensor::from_vector({64, 2}, circle), eps = points(64, 2, 8);
    const tensor x_t = x0 * 0.8f + eps * 0.6f, t = tensor::full({64}, 0.3f);
    float first = 0, last = 0;
    for (int step = 0; step < 200; ++step) {
        net.zero_grad();
        const tensor loss = mse_loss(net.forward(x_t, t, {}), eps);
        loss.backward();
        opt.step();
        (step == 0 ? first : last) = loss.item();
    }
    MESSAGE("loss " << first << " -> " << last);
    CHECK(last < 0.5f * first);
}
