// SPDX-License-Identifier: Apache-2.0
// Tests of the unet3d network: PyTorch parity, shapes, frame mixing, the clean mask, errors.
#include "unet3d.h"

#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/network_testing.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace difflab;
using difflab::plugins::unet3d;
using difflab::plugins::unet_parts::temporal_attention;
using difflab::testing::all_zero;
using difflab::testing::build;
using difflab::testing::randomize_parameters;
using difflab::testing::relative_error;

namespace {

/// A small video network: 8 channels, levels 8x8 and 4x4, spatial attention at 4x4.
const std::string small_layout =
    "channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1, image_size: 8, attention_resolutions: [4], "
    "num_heads: 2";

unet3d small_net(const std::string& more = "") {
    return build<unet3d>("{" + small_layout + (more.empty() ? "" : ", " + more) + "}");
}

tensor video(std::int64_t n, std::int64_t channels, std::int64_t frames, std::int64_t size, std::uint64_t seed = 5) {
    return randn({n, channels, frames, size, size}, seed, random_purpose("unet3d_test.x"));
}

tensor times(std::int64_t n) {
    return rand({n}, 9, random_purpose("unet3d_test.t"));
}

/// A clean mask [N, 1, F, 1, 1] holding `flags` (row-major over N and F).
tensor mask(std::int64_t n, std::int64_t frames, const std::vector<float>& flags) {
    return tensor::from_vector({n, 1, frames, 1, 1}, flags);
}

/// Frame f of a video batch, [N, C, 1, H, W].
tensor frame(const tensor& t, std::int64_t f) {
    return t.slice(2, f, f + 1);
}

/// The frames in reverse order (dimension 2).
tensor reversed(const tensor& t) {
    std::vector<tensor> frames;
    for (std::int64_t f = t.size(2); f-- > 0;) frames.push_back(frame(t, f));
    return concat(frames, 2);
}

/// Sets every parameter whose name contains `part` to `value`.
void fill_parameters(unet3d& net, const std::string& part, float value) {
    no_grad_guard guard;
    for (auto& [name, p] : net.named_parameters())
        if (name.find(part) != std::string::npos) p.fill_(value);
}

}  // namespace

TEST_CASE("unet3d matches PyTorch: output and gradients with a clean mask, condition channels, clipped distances") {
    const testing::torch_fixture f(std::string(DIFFLAB_SOURCE_DIR) + "/tests/fixtures/torch/unet3d_tiny.safetensors");
    unet3d net = build<unet3d>(f.options);
    const tensor clean_mask = f.get("clean_mask");
    REQUIRE(clean_mask.defined());
    CHECK(!all_zero(clean_mask));
    CHECK(f.get("x").size(2) > net.config().max_frames);  // distances beyond the table are clipped
    const std::map<std::string, double> errors = testing::compare_with_torch(net, f, net.config().extra_in_channels);
    for (const auto& [what, error] : errors) {
        MESSAGE("unet3d_tiny: " << what << " relative error " << error);
        CHECK(error <= 1e-4);
    }
    CHECK(errors.size() == 15);  // the output, grad x and the 13 parameter gradients the fixture holds
    CHECK(errors.count("grad/frame_embed.weight") == 1);
    CHECK(errors.count("grad/mid.temporal.relative_bias.weight") == 1);
    CHECK(!all_zero(f.get("out")));
}

TEST_CASE("unet3d parameter counts equal PyTorch's for the same architecture") {
    // From `/usr/bin/python3 tools/bench/unet_reference.py --counts` (the PyTorch twin, UNet3D).
    const std::vector<std::pair<std::string, std::int64_t>> cases{
        {"{}", 6953073},
        {"{channels: 64, channel_mult: [1, 2, 2, 2], num_res_blocks: 2, image_size: 64, attention_resolutions: [16, "
         "8], temporal_attention_resolutions: [32, 16, 8], head_channels: 32, max_frames: 16}",
         10344641},
        {"{in_channels: 1, extra_in_channels: 1, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, "
         "attention_resolutions: [4], image_size: 8, groups: 4, num_heads: 2, max_frames: 3}",
         50567},
    };
    for (const auto& [yaml, count] : cases) {
        CAPTURE(yaml);
        CHECK(build<unet3d>(yaml).parameter_count() == count);
    }
}

TEST_CASE("unet3d parameters are named by module path, temporal blocks where the options ask") {
    unet3d net = small_net("temporal_attention_resolutions: [4], max_frames: 5, extra_in_channels: 2");
    const state_dict_t state = net.state_dict();
    const std::map<std::string, shape_t> expected{
        {"time_embed.linear_1.weight", {32, 8}},
        {"frame_embed.weight", {2, 32}},
        {"conv_in.weight", {8, 3, 3, 3}},
        {"down.0.res.in_conv.weight", {8, 8, 3, 3}},
        {"down.1.downsample.weight", {8, 8, 3, 3}},
        {"down.2.attn.to_q.weight", {16, 16}},
        {"down.2.temporal.norm.weight", {16}},
        {"down.2.temporal.to_k.bias", {16}},
        {"down.2.temporal.relative_bias.weight", {9, 2}},
        {"mid.temporal.to_out.weight", {16, 16}},
        {"mid.res_2.out_conv.weight", {16, 16, 3, 3}},
        {"up.1.temporal.to_v.weight", {16, 16}},
        {"up.1.upsample.weight", {16, 16, 3, 3}},
        {"conv_out.weight", {1, 8, 3, 3}},
    };
    for (const auto& [name, shape] : expected) {
        CAPTURE(name);
        REQUIRE(state.count(name) == 1);
        CHECK(state.at(name).shape() == shape);
    }
    // Level 0 (8x8) is not listed: no temporal attention there, and none beside a downsampling conv.
    for (const char* absent : {"down.0.temporal.norm.weight", "up.3.temporal.norm.weight",
                               "down.1.temporal.norm.weight", "down.0.attn.norm.weight"}) {
        CAPTURE(absent);
        CHECK(state.count(absent) == 0);
    }
    // Empty temporal_attention_resolutions: every level.
    const state_dict_t every = small_net().state_dict();
    for (const char* present : {"down.0.temporal.norm.weight", "down.2.temporal.norm.weight",
                                "up.0.temporal.norm.weight", "up.3.temporal.norm.weight"}) {
        CAPTURE(present);
        CHECK(every.count(present) == 1);
    }
    CHECK(every.at("down.0.temporal.relative_bias.weight").shape() == shape_t{63, 2});  // max_frames 32
}

TEST_CASE("unet3d output shapes: frame counts (odd, 1, beyond max_frames), sizes, condition channels") {
    struct shape_case {
        std::string more;
        shape_t x;
        std::int64_t extra = 0;
        std::int64_t out_channels = 1;
    };
    const std::vector<shape_case> cases{
        {"", {2, 1, 4, 8, 8}},
        {"", {1, 1, 5, 8, 8}},
        {"", {2, 1, 1, 8, 8}},
        {"max_frames: 2", {2, 1, 7, 8, 8}},
        {"", {2, 1, 3, 10, 10}},  // 10 -> 5 and back
        {"extra_in_channels: 2", {2, 1, 3, 8, 8}, 2},
        {"in_channels: 3, out_channels: 2, temporal_attention_resolutions: [4], head_channels: 4",
         {2, 3, 6, 8, 8},
         0,
         2},
    };
    for (const shape_case& c : cases) {
        CAPTURE(c.more);
        CAPTURE(shape_text(c.x));
        unet3d net = small_net(c.more);
        randomize_parameters(net);
        condition cond;
        if (c.extra > 0) cond.channels = video(c.x[0], c.extra, c.x[2], c.x[3], 6);
        const tensor out = net.forward(video(c.x[0], c.x[1], c.x[2], c.x[3]), times(c.x[0]), cond);
        CHECK(out.shape() == shape_t{c.x[0], c.out_channels, c.x[2], c.x[3], c.x[4]});
        CHECK(out.is_contiguous());
        CHECK(!all_zero(out));
        CHECK(net.output_channels() == c.out_channels);
    }
}

TEST_CASE("a fresh unet3d predicts exactly zero, and a fresh temporal block is the identity") {
    unet3d net = small_net();
    const state_dict_t state = net.state_dict();
    for (const char* zero :
         {"conv_out.weight", "conv_out.bias", "down.0.temporal.to_out.weight", "mid.temporal.to_out.bias",
          "mid.temporal.relative_bias.weight", "up.3.temporal.relative_bias.weight"}) {
        CAPTURE(zero);
        CHECK(all_zero(state.at(zero)));
    }
    for (const char* random : {"frame_embed.weight", "down.0.temporal.to_q.weight", "mid.temporal.to_v.weight"}) {
        CAPTURE(random);
        CHECK(!all_zero(state.at(random)));
    }
    CHECK(all_zero(net.forward(video(2, 1, 4, 8), times(2), {})));

    temporal_attention block(8, 2, 4, 4, 1, "temporal");
    const tensor x = randn({6, 8, 4, 4}, 1, random_purpose("unet3d_test.h")).to_channels_last();
    CHECK(block.forward(x, 3).to_vector() == x.to_vector());
}

TEST_CASE("temporal attention's position bias: one row per distance key - query, clipped to the table") {
    temporal_attention block(8, 2, 4, 3, 1, "temporal");  // distances -2 .. 2: rows 0 .. 4
    tensor table = block.state_dict().at("relative_bias.weight");
    REQUIRE(table.shape() == shape_t{5, 2});
    {
        no_grad_guard guard;
        table.copy_(tensor::from_vector({5, 2}, {-2, 20, -1, 10, 0, 0, 1, -10, 2, -20}));
    }
    const tensor bias = block.position_bias(5);
    REQUIRE(bias.shape() == shape_t{2, 5, 5});
    for (std::int64_t i = 0; i < 5; ++i)
        for (std::int64_t j = 0; j < 5; ++j) {
            CAPTURE(i);
            CAPTURE(j);
            const float distance = static_cast<float>(std::clamp<std::int64_t>(j - i, -2, 2));
            CHECK(bias.slice(0, 0, 1).slice(1, i, i + 1).slice(2, j, j + 1).item() == distance);
            CHECK(bias.slice(0, 1, 2).slice(1, i, i + 1).slice(2, j, j + 1).item() == -10 * distance);
        }
}

TEST_CASE("unet3d row i of a batch equals that video run alone") {
    unet3d net = small_net("extra_in_channels: 1");
    randomize_parameters(net);
    net.eval();
    no_grad_guard guard;
    const tensor x = video(3, 1, 4, 8), t = times(3);
    condition cond;
    cond.channels = video(3, 1, 4, 8, 6);
    cond.clean_mask = mask(3, 4, {1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1});
    const tensor batch = net.forward(x, t, cond);
    for (std::int64_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        const tensor alone = net.forward(x.slice(0, i, i + 1), t.slice(0, i, i + 1), cond.rows(i, 1));
        CHECK(relative_error(alone, batch.slice(0, i, i + 1)) <= 1e-5);
    }
    CHECK(net.forward(x, t, cond).to_vector() == batch.to_vector());
}

TEST_CASE("unet3d reads the clean mask through the frame embedding only") {
    unet3d net = small_net();
    randomize_parameters(net);
    no_grad_guard guard;
    const tensor x = video(2, 1, 4, 8), t = times(2);
    condition none, zeros, first;
    zeros.clean_mask = mask(2, 4, std::vector<float>(8, 0.0f));
    first.clean_mask = mask(2, 4, {1, 0, 0, 0, 1, 0, 0, 0});
    const tensor out = net.forward(x, t, none);
    // Undefined means no frame is given: row 0 everywhere.
    CHECK(net.forward(x, t, zeros).to_vector() == out.to_vector());
    // Giving frame 0 changes the output, at frame 0 and (through temporal attention) elsewhere.
    const tensor given = net.forward(x, t, first);
    CHECK(relative_error(frame(given, 0), frame(out, 0)) > 1e-3);
    CHECK(relative_error(frame(given, 2), frame(out, 2)) > 1e-3);
    // With both rows of frame_embed equal the mask makes no difference: it enters nowhere else.
    tensor table = net.state_dict().at("frame_embed.weight");
    table.slice(0, 1, 2).copy_(table.slice(0, 0, 1).clone());
    CHECK(net.forward(x, t, first).to_vector() == out.to_vector());
}

TEST_CASE("unet3d mixes frames through temporal attention only") {
    const tensor x = video(2, 1, 4, 8), t = times(2);
    tensor changed = x.clone();
    frame(changed, 0).copy_(video(2, 1, 1, 8, 11));
    for (const std::string more : {"", "temporal_attention_resolutions: [8]", "temporal_attention_resolutions: [4]"}) {
        CAPTURE(more);
        unet3d net = small_net(more);
        randomize_parameters(net);
        no_grad_guard guard;
        const tensor out = net.forward(x, t, {}), other = net.forward(changed, t, {});
        CHECK(relative_error(frame(other, 0), frame(out, 0)) > 1e-2);
        CHECK(relative_error(frame(other, 2), frame(out, 2)) > 1e-3);  // frame 0 reached frame 2
        // Every temporal block the identity (its output projection zero): the frames are separate
        // images, so frame 0 no longer reaches the others.
        fill_parameters(net, ".temporal.to_out.", 0.0f);
        const tensor apart = net.forward(x, t, {}), apart_other = net.forward(changed, t, {});
        CHECK(relative_error(frame(apart_other, 0), frame(apart, 0)) > 1e-2);
        for (std::int64_t f = 1; f < 4; ++f) {
            CAPTURE(f);
            CHECK(relative_error(frame(apart_other, f), frame(apart, f)) <= 1e-6);
        }
    }
}

TEST_CASE("unet3d tells frame order by the relative position bias alone") {
    // Without the bias every part is blind to order: attention over frames is permutation
    // equivariant and the rest works per frame. Reversed frames (and mask) give the reversed
    // output; a learned bias breaks that.
    unet3d net = small_net();
    randomize_parameters(net);
    no_grad_guard guard;
    const tensor x = video(2, 1, 4, 8), t = times(2);
    condition cond, back;
    cond.clean_mask = mask(2, 4, {1, 1, 0, 0, 0, 1, 0, 0});
    back.clean_mask = reversed(cond.clean_mask);
    CHECK(relative_error(net.forward(reversed(x), t, back), reversed(net.forward(x, t, cond))) > 1e-3);
    fill_parameters(net, ".relative_bias.", 0.0f);
    CHECK(relative_error(net.forward(reversed(x), t, back), reversed(net.forward(x, t, cond))) <= 1e-5);
}

TEST_CASE("unet3d ignores labels") {
    unet3d net = small_net();
    randomize_parameters(net);
    no_grad_guard guard;
    const tensor x = video(2, 1, 3, 8), t = times(2);
    CHECK(net.forward(x, t, condition::from_labels(tensor::from_vector({2}, {1, 4}))).to_vector() ==
          net.forward(x, t, {}).to_vector());
}

TEST_CASE("unet3d forward rejects inputs that do not fit") {
    unet3d net = small_net("extra_in_channels: 1");
    condition frames;
    frames.channels = video(2, 1, 4, 8, 6);
    CHECK_THROWS_WITH_AS(net.forward(randn({2, 1, 8, 8}, 1, random_purpose("unet3d_test.x")), times(2), frames),
                         "error: unet3d: expected a video x [N, 1, F, H, W] (in_channels, F frames), got [2, 1, 8, 8]",
                         error);
    CHECK_THROWS_WITH_AS(net.forward(video(2, 2, 4, 8), times(2), frames),
                         "error: unet3d: expected a video x [N, 1, F, H, W] (in_channels, F frames), got "
                         "[2, 2, 4, 8, 8]",
                         error);
    CHECK_THROWS_WITH_AS(net.forward(video(2, 1, 4, 8), times(2), {}),
                         "error: unet3d: expected condition channels [2, 1, 4, 8, 8] (extra_in_channels 1), got none; "
                         "pass the conditioning frames as condition.channels or set extra_in_channels: 0",
                         error);
    condition short_clip;
    short_clip.channels = video(2, 1, 3, 8, 6);
    CHECK_THROWS_WITH_AS(net.forward(video(2, 1, 4, 8), times(2), short_clip),
                         "error: unet3d: expected condition channels [2, 1, 4, 8, 8] (extra_in_channels 1), got "
                         "[2, 1, 3, 8, 8]; give them x's batch size, frame count and frame size",
                         error);
    CHECK_THROWS_WITH_AS(net.forward(video(2, 1, 4, 8), times(3), frames),
                         "error: unet3d: expected one noise input per example ([2]), got [3]", error);
    condition pixels = frames;
    pixels.clean_mask = tensor::zeros({2, 1, 4, 8, 8});
    CHECK_THROWS_WITH_AS(net.forward(video(2, 1, 4, 8), times(2), pixels),
                         "error: unet3d: expected a clean mask [2, 1, 4, 1, 1] (one flag per frame: 1 given clean, 0 "
                         "generated), got [2, 1, 4, 8, 8]; mark whole frames, the same for every channel and pixel",
                         error);
    condition weights = frames;
    weights.clean_mask = mask(2, 4, {1, 0, 0, 0, 0.5f, 0, 0, 0});
    CHECK_THROWS_WITH_AS(net.forward(video(2, 1, 4, 8), times(2), weights),
                         "error: unet3d: expected a clean mask [2, 1, 4, 1, 1] of 0 (generated) and 1 (given clean), "
                         "got the value 0.5; pass whole-frame flags, not weights",
                         error);
    condition tokens = frames;
    tokens.context = randn({2, 4, 8}, 1, random_purpose("unet3d_test.context"));
    CHECK_THROWS_WITH_AS(net.forward(video(2, 1, 4, 8), times(2), tokens),
                         "error: unet3d: got a cross-attention context [2, 4, 8], but unet3d has no cross-attention; "
                         "leave condition.context undefined",
                         error);
    unet3d plain = small_net();
    CHECK_THROWS_WITH_AS(plain.forward(video(2, 1, 4, 8), times(2), frames),
                         "error: unet3d: got condition channels [2, 1, 4, 8, 8], but extra_in_channels is 0; set "
                         "extra_in_channels: 1",
                         error);
}

TEST_CASE("unet3d configuration errors name the problem and the fix") {
    CHECK_THROWS_WITH_AS(small_net("temporal_attention_resolutions: [2]"),
                         "error: unet3d: temporal_attention_resolutions lists 2, which is not a feature-map size of a "
                         "8x8 input with 2 levels (8, 4); pick from those sizes, or set image_size to the data's size",
                         config_error);
    CHECK_THROWS_WITH_AS(
        build<unet3d>("{channels: 8, groups: 4, channel_mult: [1, 2], image_size: 8, attention_resolutions: [6]}"),
        "error: unet3d: attention_resolutions lists 6, which is not a feature-map size of a 8x8 input "
        "with 2 levels (8, 4); pick from those sizes, or set image_size to the data's size",
        config_error);
    CHECK_THROWS_WITH_AS(build<unet3d>("{channels: 8, groups: 4, channel_mult: [1, 2], image_size: 8, num_heads: 3}"),
                         "error: unet3d: the attention at 8x8 has 8 channels, which do not split into num_heads 3; "
                         "pick num_heads dividing 8",
                         config_error);
    CHECK_THROWS_AS(small_net("max_frames: 0"), config_error);
    CHECK_THROWS_AS(small_net("num_classes: 3"), config_error);  // no class conditioning
}

TEST_CASE("unet3d trains: Adam steps on a fixed batch lower the loss, and every layer gets a gradient") {
    unet3d net = small_net("seed: 1");
    optim::adam opt(net.parameters(), {1e-2f});
    const tensor x0 = video(2, 1, 4, 8, 21), eps = video(2, 1, 4, 8, 22);
    const tensor t = tensor::from_vector({2}, {0.3f, 0.7f});
    const tensor x_t = x0 * 0.6f + eps * 0.8f;
    condition cond;
    cond.clean_mask = mask(2, 4, {1, 0, 0, 0, 0, 0, 1, 0});  // both rows of frame_embed used
    float first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
        net.zero_grad();
        const tensor loss = mse_loss(net.forward(x_t, t, cond), eps);
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
