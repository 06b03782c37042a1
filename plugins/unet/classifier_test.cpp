// SPDX-License-Identifier: Apache-2.0
// Tests of the classifier network: PyTorch parity, parameter counts and names, time input, head, errors.
#include "classifier.h"

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
using difflab::plugins::classifier;
using difflab::testing::all_zero;
using difflab::testing::build;
using difflab::testing::randomize_parameters;
using difflab::testing::relative_error;

namespace {

tensor image_batch(std::int64_t n, std::int64_t channels, std::int64_t size, std::uint64_t seed = 5) {
    return randn({n, channels, size, size}, seed, random_purpose("classifier_test.x"));
}

tensor times(std::int64_t n, std::uint64_t seed = 9) {
    return rand({n}, seed, random_purpose("classifier_test.t"));
}

/// Compares a classifier built from tests/fixtures/torch/<name>.safetensors (written by
/// tools/bench/unet_reference.py; its weights load strictly: every name and shape of the twin's
/// state_dict) with PyTorch's logits and gradients.
void check_against_torch(const std::string& name) {
    CAPTURE(name);
    const testing::torch_fixture f(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/torch/" + name + ".safetensors");
    classifier net = build<classifier>(f.options);
    const std::map<std::string, double> errors = testing::compare_with_torch(net, f);
    CHECK(net.state_dict().size() == f.weights.size());
    for (const auto& [what, error] : errors) {
        MESSAGE(name << ": " << what << " relative error " << error);
        CHECK(error <= 1e-4);
        CHECK(!all_zero(f.get(what)));
    }
    CHECK(errors.size() >= 6);  // the logits and at least five gradients
}

}  // namespace

TEST_CASE("classifier matches PyTorch: time-conditioned, attention at 8x8, logits and gradients") {
    check_against_torch("classifier");
}

TEST_CASE("classifier matches PyTorch: without time conditioning, three levels, head_channels") {
    check_against_torch("classifier_untimed");
}

TEST_CASE("classifier parameter counts equal PyTorch's for the same architecture") {
    // From `/usr/bin/python3 tools/bench/unet_reference.py --counts` (the Classifier twin).
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"{}", 2422474},
        {"{time_conditioned: false}", 2109770},
        {"{in_channels: 3, channels: 64, channel_mult: [1, 2, 2, 2], num_res_blocks: 2, "
         "attention_resolutions: [16, 8], image_size: 32, head_channels: 32, scale_shift_norm: true}",
         3789642},
        {"{channels: 16, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [8], image_size: 16, "
         "groups: 8, num_heads: 2, num_classes: 10}",
         80458},
        {"{channels: 8, channel_mult: [1, 2, 2], num_res_blocks: 2, groups: 4, image_size: 16, head_channels: 4, "
         "num_classes: 3, time_conditioned: false}",
         33787},
    };
    for (const auto& [yaml, count] : cases) {
        CAPTURE(yaml);
        CHECK(build<classifier>(yaml).parameter_count() == count);
    }
}

TEST_CASE("classifier parameters are named by module path, and without time there is no time embedding") {
    const std::string yaml =
        "{channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [14], "
        "num_classes: 5, scale_shift_norm: true";
    const state_dict_t state = build<classifier>(yaml + "}").state_dict();
    const std::map<std::string, shape_t> expected{
        {"time_embed.linear_1.weight", {32, 8}},
        {"time_embed.linear_2.bias", {32}},
        {"conv_in.weight", {8, 1, 3, 3}},
        {"down.0.res.emb_proj.weight", {16, 32}},
        {"down.1.downsample.weight", {8, 8, 3, 3}},
        {"down.2.res.skip.weight", {16, 8, 1, 1}},
        {"down.2.attn.to_q.weight", {16, 16}},
        {"mid.res_1.out_conv.weight", {16, 16, 3, 3}},
        {"mid.attn.norm.bias", {16}},
        {"out_norm.weight", {16}},
        {"head.weight", {5, 16}},
        {"head.bias", {5}},
    };
    for (const auto& [name, shape] : expected) {
        CAPTURE(name);
        REQUIRE(state.count(name) == 1);
        CHECK(state.at(name).shape() == shape);
    }
    CHECK(state.count("down.0.attn.norm.weight") == 0);  // no attention at 28x28
    CHECK(std::none_of(state.begin(), state.end(), [](const auto& e) { return e.first.rfind("up.", 0) == 0; }));

    const state_dict_t plain = build<classifier>(yaml + ", time_conditioned: false}").state_dict();
    for (const auto& [name, value] : plain) {
        CAPTURE(name);
        CHECK(name.find("time_embed") == std::string::npos);
        CHECK(name.find("emb_proj") == std::string::npos);
    }
    // Everything else is the same: only time_embed (2 layers) and 4 res blocks' emb_proj are gone.
    CHECK(plain.size() + 4 + 8 == state.size());
}

TEST_CASE("a fresh classifier gives zero logits (zero-initialized head) from nonzero features") {
    classifier net = build<classifier>("{channels: 8, groups: 4, channel_mult: [1, 2], num_classes: 4}");
    CHECK(all_zero(net.state_dict().at("head.weight")));
    CHECK(all_zero(net.state_dict().at("head.bias")));
    const tensor x = image_batch(2, 1, 28, 28), t = times(2);
    CHECK(!all_zero(net.features(x, t)));
    const tensor logits = net.forward(x, t, {});
    CHECK(logits.shape() == shape_t{2, 4});
    CHECK(all_zero(logits));
}

TEST_CASE("classifier without time conditioning ignores the noise input, and with it the noise changes the logits") {
    classifier plain = build<classifier>(
        "{channels: 8, groups: 4, channel_mult: [1, 2], attention_resolutions: [14], time_conditioned: false}");
    randomize_parameters(plain);
    no_grad_guard guard;
    const tensor x = image_batch(3, 1, 28, 28);
    const tensor without = plain.forward(x, tensor(), {});
    CHECK(without.shape() == shape_t{3, 10});
    CHECK(!all_zero(without));
    CHECK(plain.forward(x, times(3, 1), {}).to_vector() == without.to_vector());
    CHECK(plain.forward(x, times(3, 2), {}).to_vector() == without.to_vector());
    CHECK(plain.features(x, {}).to_vector() == plain.features(x, times(3)).to_vector());

    classifier timed = build<classifier>("{channels: 8, groups: 4, channel_mult: [1, 2], attention_resolutions: [14]}");
    randomize_parameters(timed);
    const tensor a = timed.forward(x, times(3, 1), {}), b = timed.forward(x, times(3, 2), {});
    const double change = relative_error(b, a);
    MESSAGE("time-conditioned: another noise input changes the logits by " << change << " (relative)");
    CHECK(change > 1e-3);
    // ... and per example: row 0 with the same noise is unchanged.
    const tensor same_first = tensor::from_vector({3}, {times(3, 1).to_vector()[0], 0.9f, 0.1f});
    const tensor c = timed.forward(x, same_first, {});
    CHECK(relative_error(c.slice(0, 0, 1), a.slice(0, 0, 1)) <= 1e-6);
    CHECK(relative_error(c.slice(0, 1, 3), a.slice(0, 1, 3)) > 1e-3);
}

TEST_CASE("classifier forward is the head applied to exactly features(): logits = features W^T + b") {
    for (const std::string yaml :
         {"{channels: 8, groups: 4, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [7], "
          "num_classes: 6}",
          "{in_channels: 3, channels: 8, groups: 4, channel_mult: [1, 3], num_classes: 2, time_conditioned: false, "
          "image_size: 32}"}) {
        CAPTURE(yaml);
        classifier net = build<classifier>(yaml);
        randomize_parameters(net);
        net.eval();
        no_grad_guard guard;
        const std::int64_t n = 4, in = net.config().in_channels, k = net.config().num_classes;
        const std::int64_t c = net.feature_channels();
        CHECK(c == net.config().channels * net.config().channel_mult.back());
        const tensor x = image_batch(n, in, net.config().image_size), t = times(n);
        const tensor features = net.features(x, t);
        REQUIRE(features.shape() == shape_t{n, c});
        const tensor logits = net.forward(x, t, {});
        REQUIRE(logits.shape() == shape_t{n, k});
        CHECK(logits.is_contiguous());
        CHECK(logits.to_vector() == net.head(features).to_vector());
        // By hand, from the state dict: the head reads these features and nothing else.
        const state_dict_t state = net.state_dict();
        const std::vector<float> f = features.to_vector(), w = state.at("head.weight").to_vector(),
                                 b = state.at("head.bias").to_vector(), out = logits.to_vector();
        double worst = 0, scale = 0;
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t j = 0; j < k; ++j) {
                double sum = b[j];
                for (std::int64_t m = 0; m < c; ++m) sum += static_cast<double>(f[i * c + m]) * w[j * c + m];
                worst = std::max(worst, std::abs(sum - out[i * k + j]));
                scale = std::max(scale, std::abs(sum));
            }
        MESSAGE("head by hand: max error " << worst << " of logits up to " << scale);
        CHECK(worst <= 1e-5 * std::max(scale, 1.0));
        CHECK(scale > 1e-2);
    }
}

TEST_CASE("classifier row i of a batch equals that row run alone, and the pool takes any input size") {
    classifier net = build<classifier>(
        "{channels: 8, groups: 4, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [7], "
        "scale_shift_norm: true, num_heads: 2}");
    randomize_parameters(net);
    net.eval();
    no_grad_guard guard;
    const tensor x = image_batch(4, 1, 28, 28), t = times(4);
    const tensor batch = net.forward(x, t, {});
    for (std::int64_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        const tensor alone = net.forward(x.slice(0, i, i + 1), t.slice(0, i, i + 1), {});
        CHECK(relative_error(alone, batch.slice(0, i, i + 1)) <= 1e-5);
    }
    CHECK(net.forward(image_batch(2, 1, 30, 30), times(2), {}).shape() == shape_t{2, 10});
    CHECK(net.features(image_batch(2, 1, 17, 17), times(2)).shape() == shape_t{2, 16});
}

TEST_CASE("classifier forward rejects labels, channels, a missing noise input and wrong input channels") {
    classifier timed = build<classifier>("{channels: 8, groups: 4, channel_mult: [1, 2]}");
    const tensor x = image_batch(2, 1, 16, 16);
    CHECK_THROWS_WITH_AS(timed.forward(x, times(2), condition::from_labels(tensor::from_vector({2}, {1, 2}))),
                         doctest::Contains("a classifier takes no labels"), error);
    condition image;
    image.channels = image_batch(2, 1, 16, 16);
    CHECK_THROWS_WITH_AS(timed.forward(x, times(2), image),
                         "error: classifier: got condition channels [2, 1, 16, 16], but a classifier reads x alone; "
                         "leave condition.channels undefined",
                         error);
    CHECK_THROWS_WITH_AS(timed.forward(x, tensor(), {}),
                         doctest::Contains("time_conditioned needs one noise input per example ([2]), got an "
                                           "undefined tensor"),
                         error);
    CHECK_THROWS_WITH_AS(timed.forward(x, times(3), {}),
                         doctest::Contains("one noise input per example ([2]), got [3]"), error);
    CHECK_THROWS_WITH_AS(timed.forward(image_batch(2, 3, 16, 16), times(2), {}),
                         doctest::Contains("expected x [N, 1, H, W] (in_channels 1), got [2, 3, 16, 16]"), error);
    CHECK_THROWS_WITH_AS(timed.features(tensor(), times(2)),
                         doctest::Contains("expected x [N, 1, H, W] (in_channels 1), got an undefined tensor"), error);
    CHECK_THROWS_WITH_AS(timed.head(tensor::zeros({2, 8})), doctest::Contains("head expects features [N, 16]"), error);
    classifier plain = build<classifier>("{channels: 8, groups: 4, channel_mult: [1, 2], time_conditioned: false}");
    CHECK_THROWS_WITH_AS(plain.forward(x, tensor(), condition::from_labels(tensor::from_vector({2}, {0, 1}))),
                         doctest::Contains("a classifier takes no labels"), error);
}

TEST_CASE("classifier configuration errors name the problem and the fix") {
    CHECK_THROWS_WITH_AS(build<classifier>("{channels: 48, groups: 32}"),
                         doctest::Contains("groups 32 does not divide channels 48"), config_error);
    CHECK_THROWS_WITH_AS(build<classifier>("{channels: 32, attention_resolutions: [8]}"),
                         doctest::Contains("attention_resolutions lists 8, which is not a feature-map size of a "
                                           "28x28 input with 3 levels (28, 14, 7)"),
                         config_error);
    CHECK_THROWS_WITH_AS(build<classifier>("{channels: 32, num_heads: 3}"),
                         doctest::Contains("the attention at 7x7 has 64 channels, which do not split into num_heads 3"),
                         config_error);
    CHECK_THROWS_WITH_AS(build<classifier>("{channel_mult: []}"),
                         doctest::Contains("channel_mult must list at least one level"), config_error);
    CHECK_THROWS_WITH_AS(build<classifier>("{num_classes: 1}"), doctest::Contains("num_classes"), config_error);
    CHECK_THROWS_AS(build<classifier>("{dropout: 1.0}"), config_error);
}

TEST_CASE("classifier weights: the same seed gives the same weights, another seed others, -1 the experiment's") {
    const std::string yaml = "{channels: 8, groups: 4, channel_mult: [1, 2], attention_resolutions: [14]";
    const state_dict_t a = build<classifier>(yaml + ", seed: 4}").state_dict();
    const state_dict_t b = build<classifier>(yaml + ", seed: 4}").state_dict();
    const state_dict_t c = build<classifier>(yaml + ", seed: 5}").state_dict();
    const state_dict_t d = build<classifier>(yaml + "}").state_dict();  // the test context's seed, 0
    const state_dict_t e = build<classifier>(yaml + ", seed: 0}").state_dict();
    REQUIRE(a.size() == c.size());
    for (const auto& [name, value] : a) {
        CAPTURE(name);
        CHECK(value.to_vector() == b.at(name).to_vector());
        CHECK(d.at(name).to_vector() == e.at(name).to_vector());
        if (!all_zero(value) && name.find("norm") == std::string::npos)
            CHECK(value.to_vector() != c.at(name).to_vector());
    }
}

TEST_CASE("classifier trains: Adam steps on a fixed batch lower the cross-entropy, gradients reach every layer") {
    for (const bool timed : {true, false}) {
        CAPTURE(timed);
        classifier net = build<classifier>(
            std::string("{channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1, "
                        "attention_resolutions: [8], image_size: 16, num_classes: 4, seed: 1, time_conditioned: ") +
            (timed ? "true}" : "false}"));
        optim::adam opt(net.parameters(), {1e-2f});
        const tensor x = image_batch(8, 1, 16, 31), t = times(8);
        const tensor labels = tensor::from_vector({8}, {0, 1, 2, 3, 3, 2, 1, 0});
        float first = 0, last = 0;
        for (int step = 0; step < 60; ++step) {
            net.zero_grad();
            const tensor loss = cross_entropy(net.forward(x, t, {}), labels);
            loss.backward();
            opt.step();
            (step == 0 ? first : last) = loss.item();
        }
        MESSAGE("cross-entropy " << first << " -> " << last);
        CHECK(first == doctest::Approx(std::log(4.0)).epsilon(1e-5));  // zero logits: uniform
        CHECK(last < 0.5f * first);
        for (const auto& [name, p] : net.named_parameters()) {
            CAPTURE(name);
            CHECK(p.grad().defined());
        }
    }
}
