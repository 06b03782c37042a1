// SPDX-License-Identifier: Apache-2.0
// Tests of the unet network: shapes, parameter counts and names, errors, determinism, PyTorch parity.
#include "unet.h"

#include <difflab/io/safetensors.h>
#include <difflab/plugin/config_node.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/precision.h>
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
using difflab::plugins::unet;
using difflab::testing::all_zero;
using difflab::testing::build;
using difflab::testing::randomize_parameters;
using difflab::testing::relative_error;

namespace {

tensor image_batch(std::int64_t n, std::int64_t channels, std::int64_t size, std::uint64_t seed = 5) {
    return randn({n, channels, size, size}, seed, random_purpose("unet_test.x"));
}

tensor times(std::int64_t n) {
    return rand({n}, 9, random_purpose("unet_test.t"));
}

/// Compares a unet built from tests/fixtures/torch/<name>.safetensors (written by
/// tools/bench/unet_reference.py) with PyTorch's output and gradients.
void check_against_torch(const std::string& name) {
    CAPTURE(name);
    const testing::torch_fixture f(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/torch/" + name + ".safetensors");
    unet net = build<unet>(f.options);
    const std::map<std::string, double> errors = testing::compare_with_torch(net, f, net.config().extra_in_channels);
    for (const auto& [what, error] : errors) {
        MESSAGE(name << ": " << what << " relative error " << error);
        CHECK(error <= 1e-4);
    }
    CHECK(errors.size() >= 6);  // the output and at least five gradients
    CHECK(!all_zero(f.get("out")));
}

}  // namespace

TEST_CASE("unet output shapes: 28x28 and 32x32, odd sizes, extra input channels, classes, learned variance") {
    struct shape_case {
        std::string yaml;
        shape_t x, out;
        bool labels;
        std::int64_t extra = 0;  ///< condition channels
    };
    const std::vector<shape_case> cases{
        {"{channels: 16, groups: 8, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [7]}",
         {2, 1, 28, 28},
         {2, 1, 28, 28},
         false},
        {"{in_channels: 3, channels: 16, groups: 8, channel_mult: [1, 2, 2, 2], num_res_blocks: 1, image_size: 32, "
         "attention_resolutions: [16, 8], head_channels: 8}",
         {2, 3, 32, 32},
         {2, 3, 32, 32},
         false},
        // 30 -> 15 -> 8 on the way down: the up path resamples to each skip's size.
        {"{channels: 8, groups: 4, channel_mult: [1, 2, 2], num_res_blocks: 1, image_size: 30, "
         "attention_resolutions: [15, 8]}",
         {3, 1, 30, 30},
         {3, 1, 30, 30},
         false},
        {"{in_channels: 1, extra_in_channels: 2, channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1}",
         {2, 1, 28, 28},
         {2, 1, 28, 28},
         false,
         2},
        {"{in_channels: 3, out_channels: 2, learned_variance: true, channels: 8, groups: 4, channel_mult: [1, 2]}",
         {2, 3, 16, 16},
         {2, 4, 16, 16},
         false},
        {"{num_classes: 10, scale_shift_norm: true, channels: 8, groups: 4, channel_mult: [1, 2, 2], "
         "num_res_blocks: 1, attention_resolutions: [14]}",
         {2, 1, 28, 28},
         {2, 1, 28, 28},
         true},
    };
    for (const shape_case& c : cases) {
        CAPTURE(c.yaml);
        unet net = build<unet>(c.yaml);
        randomize_parameters(net);
        condition cond;
        if (c.labels) cond.labels = tensor::from_vector({c.x[0]}, std::vector<float>(c.x[0], 3.0f));
        if (c.extra > 0) cond.channels = image_batch(c.x[0], c.extra, c.x[2], 6);
        const tensor out = net.forward(image_batch(c.x[0], c.x[1], c.x[2]), times(c.x[0]), cond);
        CHECK(out.shape() == c.out);
        CHECK(out.is_contiguous());
        CHECK(!all_zero(out));
        CHECK(net.output_channels() == c.out[1]);
    }
}

TEST_CASE("a fresh unet predicts exactly zero: the output conv and each branch's last layer start at zero") {
    unet net =
        build<unet>("{channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [14]}");
    const state_dict_t state = net.state_dict();
    for (const char* zero :
         {"conv_out.weight", "conv_out.bias", "down.0.res.out_conv.weight", "down.0.res.out_conv.bias",
          "down.2.attn.to_out.weight", "mid.attn.to_out.bias", "up.3.res.out_conv.weight"}) {
        CAPTURE(zero);
        CHECK(all_zero(state.at(zero)));
    }
    for (const char* random :
         {"conv_in.weight", "down.0.res.in_conv.weight", "mid.attn.to_q.weight", "up.0.res.skip.weight"}) {
        CAPTURE(random);
        CHECK(!all_zero(state.at(random)));
    }
    CHECK(all_zero(net.forward(image_batch(2, 1, 28, 28), times(2), {})));
}

TEST_CASE("unet parameter counts equal PyTorch's for the same architecture") {
    // From `/usr/bin/python3 tools/bench/unet_reference.py --counts` (the PyTorch twin of this unet).
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"{channels: 32, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [7]}", 1112801},
        {"{channels: 64, channel_mult: [1, 2, 2], num_res_blocks: 2, attention_resolutions: [14, 7]}", 6801409},
        {"{channels: 32, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [7], num_classes: 10, "
         "scale_shift_norm: true, learned_variance: true, extra_in_channels: 1}",
         1193218},
        {"{in_channels: 3, channels: 64, channel_mult: [1, 2, 2, 2], num_res_blocks: 2, attention_resolutions: [16], "
         "image_size: 32, head_channels: 32}",
         8952067},
        {"{channels: 8, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [7], groups: 4, "
         "num_heads: 2}",
         71033},
    };
    for (const auto& [yaml, count] : cases) {
        CAPTURE(yaml);
        CHECK(build<unet>(yaml).parameter_count() == count);
    }
}

TEST_CASE("unet parameters are named by module path, as the PyTorch twin's state_dict") {
    unet net = build<unet>(
        "{channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1, "
        "attention_resolutions: [14], num_classes: 3, scale_shift_norm: true}");
    const state_dict_t state = net.state_dict();
    const std::map<std::string, shape_t> expected{
        {"time_embed.linear_1.weight", {32, 8}},
        {"time_embed.linear_2.bias", {32}},
        {"class_embed.weight", {4, 32}},
        {"conv_in.weight", {8, 1, 3, 3}},
        {"down.0.res.in_norm.weight", {8}},
        {"down.0.res.emb_proj.weight", {16, 32}},
        {"down.1.downsample.weight", {8, 8, 3, 3}},
        {"down.2.res.skip.weight", {16, 8, 1, 1}},
        {"down.2.attn.to_q.weight", {16, 16}},
        {"mid.res_1.out_conv.weight", {16, 16, 3, 3}},
        {"mid.attn.norm.bias", {16}},
        {"up.0.res.in_conv.weight", {16, 32, 3, 3}},
        {"up.1.upsample.weight", {16, 16, 3, 3}},
        {"up.2.res.in_conv.weight", {8, 24, 3, 3}},
        {"out_norm.weight", {8}},
        {"conv_out.weight", {1, 8, 3, 3}},
    };
    for (const auto& [name, shape] : expected) {
        CAPTURE(name);
        REQUIRE(state.count(name) == 1);
        CHECK(state.at(name).shape() == shape);
    }
    CHECK(state.count("down.0.res.skip.weight") == 0);   // no 1x1 skip when the width stays
    CHECK(state.count("down.0.attn.norm.weight") == 0);  // no attention at 28x28
}

TEST_CASE("unet configuration errors name the problem and the fix") {
    CHECK_THROWS_WITH_AS(build<unet>("{channels: 48, groups: 32}"),
                         "error: unet: groups 32 does not divide channels 48; group normalization needs every channel "
                         "count (channels x channel_mult) divisible by groups: set groups to a divisor of 48 (e.g. 24)",
                         config_error);
    CHECK_THROWS_WITH_AS(build<unet>("{channels: 32, attention_resolutions: [8]}"),
                         "error: unet: attention_resolutions lists 8, which is not a feature-map size of a 28x28 input "
                         "with 3 levels (28, 14, 7); pick from those sizes, or set image_size to the data's size",
                         config_error);
    CHECK_THROWS_WITH_AS(build<unet>("{channels: 32, num_heads: 3}"),
                         "error: unet: the attention at 7x7 has 64 channels, which do not split into num_heads 3; "
                         "pick num_heads dividing 64",
                         config_error);
    CHECK_THROWS_WITH_AS(build<unet>("{channels: 32, head_channels: 48, attention_resolutions: [28]}"),
                         "error: unet: the attention at 28x28 has 32 channels, which do not split into heads of "
                         "head_channels 48; pick head_channels dividing 32",
                         config_error);
    CHECK_THROWS_WITH_AS(build<unet>("{channel_mult: []}"),
                         "error: unet: channel_mult must list at least one level (e.g. [1, 2, 2])", config_error);
    CHECK_THROWS_AS(build<unet>("{dropout: 1.0}"), config_error);
    CHECK_THROWS_AS(build<unet>("{channel_mult: [1, 0]}"), config_error);
}

TEST_CASE("unet forward rejects inputs that do not fit") {
    unet net = build<unet>("{channels: 8, groups: 4, channel_mult: [1, 2], extra_in_channels: 1}");
    condition image;
    image.channels = image_batch(2, 1, 16, 6);
    CHECK_THROWS_WITH_AS(net.forward(image_batch(2, 2, 16, 16), times(2), image),
                         "error: unet: expected x [N, 1, H, W] (in_channels), got [2, 2, 16, 16]", error);
    CHECK_THROWS_WITH_AS(net.forward(image_batch(2, 1, 16, 16), times(3), image),
                         "error: unet: expected one noise input per example ([2]), got [3]", error);
    CHECK_THROWS_WITH_AS(net.forward(image_batch(2, 1, 16, 16), times(2), {}),
                         "error: unet: expected condition channels [2, 1, 16, 16] (extra_in_channels 1), got none; "
                         "pass the conditioning image as condition.channels or set extra_in_channels: 0",
                         error);
    condition wide;
    wide.channels = image_batch(2, 3, 16, 6);
    CHECK_THROWS_WITH_AS(net.forward(image_batch(2, 1, 16, 16), times(2), wide),
                         "error: unet: expected condition channels [2, 1, 16, 16] (extra_in_channels 1), got "
                         "[2, 3, 16, 16]; set extra_in_channels: 3",
                         error);
    condition small;
    small.channels = image_batch(2, 1, 8, 6);
    CHECK_THROWS_WITH_AS(net.forward(image_batch(2, 1, 16, 16), times(2), small),
                         "error: unet: expected condition channels [2, 1, 16, 16] (extra_in_channels 1), got "
                         "[2, 1, 8, 8]; give them x's batch size and image size",
                         error);
    unet plain = build<unet>("{channels: 8, groups: 4, channel_mult: [1, 2]}");
    CHECK_THROWS_WITH_AS(plain.forward(image_batch(2, 1, 16, 16), times(2), wide),
                         "error: unet: got condition channels [2, 3, 16, 16], but extra_in_channels is 0; set "
                         "extra_in_channels: 3",
                         error);
    condition tokens;
    tokens.context = randn({2, 4, 8}, 1, random_purpose("unet_test.context"));
    CHECK_THROWS_WITH_AS(plain.forward(image_batch(2, 1, 16, 16), times(2), tokens),
                         "error: unet: got a cross-attention context [2, 4, 8], but unet has no cross-attention; "
                         "leave condition.context undefined",
                         error);
}

TEST_CASE("unet condition channels join x unscaled: the input conv reads [x, channels]") {
    // Two networks with the same weights: one reads x and the image as condition channels, the
    // other (in_channels 2) reads them joined by hand. Their outputs are equal.
    const std::string layout = "groups: 4, channel_mult: [1, 2], num_res_blocks: 1, channels: 8, seed: 3";
    unet conditioned = build<unet>("{extra_in_channels: 1, " + layout + "}");
    unet joined = build<unet>("{in_channels: 2, out_channels: 1, " + layout + "}");
    randomize_parameters(conditioned);
    joined.load_state_dict(conditioned.state_dict());
    no_grad_guard guard;
    const tensor x = image_batch(2, 1, 16, 16), image = image_batch(2, 1, 16, 6), t = times(2);
    condition cond;
    cond.channels = image;
    const tensor out = conditioned.forward(x, t, cond);
    CHECK(out.to_vector() == joined.forward(concat({x, image}, 1), t, {}).to_vector());
    // The image matters.
    cond.channels = image * 2.0f;
    CHECK(relative_error(conditioned.forward(x, t, cond), out) > 1e-3);
}

TEST_CASE("unet weights: the same seed gives the same weights, another seed others, -1 the experiment's") {
    const std::string yaml = "{channels: 8, groups: 4, channel_mult: [1, 2], attention_resolutions: [14]";
    const state_dict_t a = build<unet>(yaml + ", seed: 4}").state_dict();
    const state_dict_t b = build<unet>(yaml + ", seed: 4}").state_dict();
    const state_dict_t c = build<unet>(yaml + ", seed: 5}").state_dict();
    const state_dict_t d = build<unet>(yaml + "}").state_dict();  // the test context's seed, 0
    const state_dict_t e = build<unet>(yaml + ", seed: 0}").state_dict();
    REQUIRE(a.size() == c.size());
    for (const auto& [name, value] : a) {
        CAPTURE(name);
        CHECK(value.to_vector() == b.at(name).to_vector());
        CHECK(d.at(name).to_vector() == e.at(name).to_vector());
        if (!all_zero(value) && name.find("norm") == std::string::npos)
            CHECK(value.to_vector() != c.at(name).to_vector());
    }
    // Layers draw from their own streams: two convs of the same shape differ.
    CHECK(a.at("mid.res_1.in_conv.weight").to_vector() != a.at("mid.res_2.in_conv.weight").to_vector());
}

TEST_CASE("unet row i of a batch equals that row run alone") {
    for (const std::string yaml :
         {"{channels: 16, groups: 8, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [7]}",
          "{channels: 8, groups: 4, channel_mult: [1, 2, 2], num_res_blocks: 1, attention_resolutions: [14, 7], "
          "num_classes: 5, scale_shift_norm: true, num_heads: 2}"}) {
        CAPTURE(yaml);
        unet net = build<unet>(yaml);
        randomize_parameters(net);
        net.eval();
        no_grad_guard guard;
        const tensor x = image_batch(4, 1, 28, 28), t = times(4);
        const condition cond =
            condition::from_labels(net.config().num_classes > 0 ? tensor::from_vector({4}, {0, 4, 5, 2}) : tensor());
        const tensor batch = net.forward(x, t, cond);
        for (std::int64_t i = 0; i < 4; ++i) {
            CAPTURE(i);
            const tensor alone = net.forward(x.slice(0, i, i + 1), t.slice(0, i, i + 1), cond.rows(i, 1));
            CHECK(relative_error(alone, batch.slice(0, i, i + 1)) <= 1e-5);
        }
        // Bitwise repeatable at a fixed thread count.
        CHECK(net.forward(x, t, cond).to_vector() == batch.to_vector());
    }
}

TEST_CASE("unet without labels uses the null class, labels change the output") {
    unet net = build<unet>("{channels: 8, groups: 4, channel_mult: [1, 2], num_classes: 3}");
    randomize_parameters(net);
    no_grad_guard guard;
    const tensor x = image_batch(2, 1, 16, 16), t = times(2);
    const tensor none = net.forward(x, t, {});
    CHECK(none.to_vector() == net.forward(x, t, condition::from_labels(tensor::from_vector({2}, {3, 3}))).to_vector());
    CHECK(relative_error(net.forward(x, t, condition::from_labels(tensor::from_vector({2}, {0, 1}))), none) > 1e-3);
    // An unconditional unet ignores labels.
    unet plain = build<unet>("{channels: 8, groups: 4, channel_mult: [1, 2]}");
    randomize_parameters(plain);
    CHECK(plain.forward(x, t, {}).to_vector() ==
          plain.forward(x, t, condition::from_labels(tensor::from_vector({2}, {1, 2}))).to_vector());
}

TEST_CASE("unet dropout acts in training mode only") {
    unet net = build<unet>("{channels: 8, groups: 4, channel_mult: [1, 2], dropout: 0.3}");
    randomize_parameters(net);
    const tensor x = image_batch(2, 1, 16, 16), t = times(2);
    net.eval();
    const tensor a = net.forward(x, t, {}), b = net.forward(x, t, {});
    CHECK(a.to_vector() == b.to_vector());
    net.train();
    const tensor c = net.forward(x, t, {}), d = net.forward(x, t, {});
    CHECK(relative_error(c, a) > 1e-3);
    CHECK(relative_error(d, c) > 1e-3);  // a new mask each call
}

TEST_CASE("unet matches PyTorch: output and gradients of the tiny configuration") {
    check_against_torch("unet_tiny");
}

TEST_CASE("unet in bf16 (mixed precision) stays within bf16's error of PyTorch's f32 output and gradients") {
    for (const std::string name : {"unet_tiny", "unet_class_scale_shift"}) {
        CAPTURE(name);
        const testing::torch_fixture f(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/torch/" + name +
                                       ".safetensors");
        unet net = build<unet>(f.options);
        std::map<std::string, double> errors;
        {
            const precision_scope bf16(dtype::bf16);
            errors = testing::compare_with_torch(net, f, net.config().extra_in_channels);
        }
        for (const auto& [what, error] : errors) {
            MESSAGE(name << " in bf16: " << what << " relative error " << error);
            // Measured 0.8-1.0% for the output, up to 2.4% for a gradient: bf16 roundings through
            // ~15 layers, with the normalizations in f32.
            CHECK(error <= (what == "out" ? 2e-2 : 4e-2));
        }
        CHECK(errors.at("out") > 1e-4);  // above f32's error: the convolutions did run in bf16
    }
}

TEST_CASE("unet matches PyTorch: class-conditional, AdaGN, extra input channels, learned variance") {
    check_against_torch("unet_class_scale_shift");
}

TEST_CASE("unet trains: Adam steps on a fixed batch lower the denoising loss") {
    // Gradients reach every layer once the zero-initialized outputs have moved: a few steps of
    // eps-prediction training on four images must cut the loss.
    unet net = build<unet>(
        "{channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [8], "
        "image_size: 16, seed: 1}");
    optim::adam opt(net.parameters(), {1e-2f});
    const tensor x0 = image_batch(4, 1, 16, 21), eps = image_batch(4, 1, 16, 22);
    const tensor t = tensor::from_vector({4}, {0.1f, 0.4f, 0.6f, 0.9f});
    const tensor x_t = x0 * 0.6f + eps * 0.8f;
    float first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
        net.zero_grad();
        const tensor loss = mse_loss(net.forward(x_t, t, {}), eps);
        loss.backward();
        opt.step();
        (step == 0 ? first : last) = loss.item();
    }
    MESSAGE("loss " << first << " -> " << last);
    CHECK(first == doctest::Approx(1.0).epsilon(0.2));  // a zero prediction: the noise's variance
    CHECK(last < 0.6f * first);
    for (const auto& [name, p] : net.named_parameters()) {
        CAPTURE(name);
        CHECK(p.grad().defined());
    }
}

TEST_CASE("unet activation taps: the last decoder tap, normalized and convolved by hand, is the output") {
    unet net =
        build<unet>("{channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1, attention_resolutions: [14]}");
    randomize_parameters(net);
    const std::vector<std::string> names = net.tap_names();
    REQUIRE(names.size() == 8);  // 3 down entries (block, downsampling, block), the middle, 4 up entries
    CHECK(names.front() == "encoder.0");
    CHECK(names[3] == "middle");
    CHECK(names.back() == "decoder.3");
    activation_taps taps({"decoder.3", "middle", "decoder.0"});
    net.set_taps(&taps);
    const tensor x = image_batch(2, 1, 28, 28);
    const tensor out = net.forward(x, times(2), {});
    CHECK(taps.at("middle").shape() == shape_t{2, 16, 14, 14});
    CHECK(taps.at("decoder.0").shape() == shape_t{2, 16, 14, 14});
    // The output layer: conv_out(SiLU(GroupNorm(h))), 3 x 3 with padding 1, on the last decoder tap.
    const state_dict_t state = net.state_dict();
    const tensor last = taps.at("decoder.3");
    CHECK(last.shape() == shape_t{2, 8, 28, 28});
    const tensor by_hand = conv2d(group_norm_silu(last, 4, state.at("out_norm.weight"), state.at("out_norm.bias")),
                                  state.at("conv_out.weight"), state.at("conv_out.bias"), {1, 1, 1, 1})
                               .contiguous();
    CHECK(relative_error(out, by_hand) < 1e-5);
    // Taps that are not asked for are not kept; a name the network lacks is refused.
    CHECK_THROWS_WITH(taps.at("encoder.1"), doctest::Contains("holds nothing"));
    activation_taps wrong({"decoder.9"});
    CHECK_THROWS_WITH_AS(net.set_taps(&wrong), doctest::Contains("no activation tap 'decoder.9'; its taps: encoder.0"),
                         config_error);
    net.set_taps(nullptr);
    CHECK(relative_error(net.forward(x, times(2), {}), out) == 0);
}
