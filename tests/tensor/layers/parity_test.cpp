// SPDX-License-Identifier: Apache-2.0
// PyTorch parity of the oneDNN layers: outputs and input/weight gradients against fixtures.
#include <difflab/nn_ops.h>

#include "layers_testing.h"

using namespace difflab;
using namespace difflab::layers_testing;

namespace {

constexpr double tolerance = 1e-4;  // f32 against PyTorch's float64 reference

enum class layout { contiguous, channels_last, strided };

tensor arrange(const tensor& t, layout l) {
    switch (l) {
        case layout::channels_last:
            return t.to_channels_last();
        case layout::strided:
            return strided_copy(t);
        default:
            return t.clone();
    }
}

const char* name_of(layout l) {
    return l == layout::channels_last ? "channels-last" : l == layout::strided ? "strided" : "contiguous";
}

/// Runs `op` on the fixture's inputs (the first in layout `l`), seeds backward with grad_out,
/// and compares out and every grad_<input> with PyTorch.
void compare(const fixture& f, const std::vector<std::string>& inputs, layout l,
             const std::function<tensor(const std::vector<tensor>&)>& op) {
    const std::string label = name_of(l);
    CAPTURE(label);
    std::vector<tensor> leaves;
    for (std::size_t i = 0; i < inputs.size(); ++i)
        leaves.push_back(leaf(i == 0 ? arrange(f[inputs[i]], l) : f[inputs[i]]));
    const tensor out = op(leaves);
    CHECK(relative_error(out, f["out"]) <= tolerance);
    if (l == layout::channels_last) CHECK(out.is_channels_last());  // the fast layout survives
    out.backward(f["grad_out"]);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        CAPTURE(inputs[i]);
        REQUIRE(leaves[i].grad().defined());
        CHECK(relative_error(leaves[i].grad(), f["grad_" + inputs[i]]) <= tolerance);
    }
}

conv_options conv_options_of(const fixture& f) {
    conv_options o;
    o.stride = f.params.at("stride");
    o.padding = f.params.at("padding");
    o.dilation = f.params.at("dilation");
    o.groups = f.params.at("groups");
    return o;
}

}  // namespace

TEST_CASE("conv2d matches PyTorch (contiguous, channels-last, strided input)") {
    for (const char* name : {"conv2d", "conv2d_strided_grouped"}) {
        const std::string label = name;
        CAPTURE(label);
        const fixture f = load_fixture(name);
        const conv_options o = conv_options_of(f);
        for (layout l : {layout::contiguous, layout::channels_last, layout::strided})
            compare(f, {"x", "weight", "bias"}, l,
                    [&](const std::vector<tensor>& t) { return conv2d(t[0], t[1], t[2], o); });
    }
}

TEST_CASE("conv2d without bias at batch 1 matches PyTorch") {
    const fixture f = load_fixture("conv2d_nobias_batch1");
    for (layout l : {layout::contiguous, layout::channels_last})
        compare(f, {"x", "weight"}, l, [&](const std::vector<tensor>& t) { return conv2d(t[0], t[1], tensor()); });
}

TEST_CASE("conv2d_add (residual sum post-op) matches PyTorch's conv2d(...) + residual") {
    const fixture f = load_fixture("conv2d_add");
    const conv_options o = conv_options_of(f);
    for (layout l : {layout::contiguous, layout::channels_last, layout::strided})
        compare(f, {"x", "weight", "bias", "residual"}, l,
                [&](const std::vector<tensor>& t) { return conv2d_add(t[0], t[1], t[2], t[3], o); });
    // The residual in the other layout than x: reordered into the output first.
    compare(f, {"x", "weight", "bias", "residual"}, layout::contiguous, [&](const std::vector<tensor>& t) {
        return conv2d_add(t[0].to_channels_last(), t[1], t[2], t[3].to_channels_last(), o);
    });
}

TEST_CASE("conv3d matches PyTorch") {
    const fixture f = load_fixture("conv3d");
    const conv_options o = conv_options_of(f);
    for (layout l : {layout::contiguous, layout::channels_last})
        compare(f, {"x", "weight", "bias"}, l,
                [&](const std::vector<tensor>& t) { return conv3d(t[0], t[1], t[2], o); });
}

TEST_CASE("linear matches PyTorch") {
    const fixture f = load_fixture("linear");
    for (layout l : {layout::contiguous, layout::strided})
        compare(f, {"x", "weight", "bias"}, l, [](const std::vector<tensor>& t) { return linear(t[0], t[1], t[2]); });
}

TEST_CASE("matmul with batch broadcasting matches PyTorch") {
    const fixture f = load_fixture("matmul_broadcast");
    for (layout l : {layout::contiguous, layout::strided})
        compare(f, {"a", "b"}, l, [](const std::vector<tensor>& t) { return matmul(t[0], t[1]); });
}

TEST_CASE("group_norm matches PyTorch") {
    const fixture f = load_fixture("group_norm");
    const std::int64_t groups = f.params.at("groups");
    for (layout l : {layout::contiguous, layout::channels_last, layout::strided})
        compare(f, {"x", "weight", "bias"}, l,
                [&](const std::vector<tensor>& t) { return group_norm(t[0], groups, t[1], t[2]); });
}

TEST_CASE("group_norm_silu matches PyTorch's silu(group_norm(...))") {
    const fixture f = load_fixture("group_norm_silu");
    const std::int64_t groups = f.params.at("groups");
    for (layout l : {layout::contiguous, layout::channels_last})
        compare(f, {"x", "weight", "bias"}, l,
                [&](const std::vector<tensor>& t) { return group_norm_silu(t[0], groups, t[1], t[2]); });
}

TEST_CASE("layer_norm matches PyTorch") {
    const fixture f = load_fixture("layer_norm");
    for (layout l : {layout::contiguous, layout::strided})
        compare(f, {"x", "weight", "bias"}, l,
                [](const std::vector<tensor>& t) { return layer_norm(t[0], t[1], t[2]); });
}

TEST_CASE("softmax and log_softmax match PyTorch") {
    for (const char* name : {"softmax", "log_softmax"}) {
        const std::string label = name;
        CAPTURE(label);
        const fixture f = load_fixture(name);
        const std::int64_t dim = f.params.at("dim");
        const bool log = std::string(name) == "log_softmax";
        for (layout l : {layout::contiguous, layout::strided})
            compare(f, {"x"}, l,
                    [&](const std::vector<tensor>& t) { return log ? log_softmax(t[0], dim) : softmax(t[0], dim); });
    }
}

TEST_CASE("avg_pool2d and max_pool2d match PyTorch") {
    for (const char* name : {"avg_pool2d", "max_pool2d"}) {
        const std::string label = name;
        CAPTURE(label);
        const fixture f = load_fixture(name);
        const std::int64_t kernel = f.params.at("kernel"), stride = f.params.at("stride");
        const bool max = std::string(name) == "max_pool2d";
        for (layout l : {layout::contiguous, layout::channels_last, layout::strided})
            compare(f, {"x"}, l, [&](const std::vector<tensor>& t) {
                return max ? max_pool2d(t[0], kernel, stride) : avg_pool2d(t[0], kernel, stride);
            });
    }
}

TEST_CASE("interpolate nearest and bilinear, up and down, match PyTorch") {
    for (const char* name : {"interpolate_nearest_up", "interpolate_nearest_down", "interpolate_bilinear_up",
                             "interpolate_bilinear_down"}) {
        const std::string label = name;
        CAPTURE(label);
        const fixture f = load_fixture(name);
        const std::string mode = f.params.at("mode");
        const auto size = f.params.at("size").get<std::vector<std::int64_t>>();
        for (layout l : {layout::contiguous, layout::channels_last})
            compare(f, {"x"}, l, [&](const std::vector<tensor>& t) {
                return interpolate(t[0], {size[0], size[1]}, mode);
            });
    }
}

TEST_CASE("multi-head cross-attention matches PyTorch") {
    const fixture f = load_fixture("attention_cross");
    const std::int64_t heads = f.params.at("heads");
    for (layout l : {layout::contiguous, layout::strided})
        compare(f, {"q", "k", "v"}, l,
                [&](const std::vector<tensor>& t) { return attention(t[0], t[1], t[2], heads); });
}

TEST_CASE("conv2d in bf16 stays close to the f32 reference") {
    const fixture f = load_fixture("conv2d");
    const tensor x = f["x"].to_channels_last().to(dtype::bf16);
    const tensor out = conv2d(x, f["weight"].to(dtype::bf16), f["bias"], conv_options_of(f));
    CHECK(out.type() == dtype::bf16);
    CHECK(relative_error(out.to(dtype::f32), f["out"]) <= 2e-2);  // bf16 keeps 8 bits of mantissa
}

TEST_CASE("the other layers run in bf16 close to their f32 results") {
    const auto bf = [](const tensor& t) { return t.to(dtype::bf16); };
    const auto close = [](const tensor& low, const tensor& reference) {
        CHECK(low.type() == dtype::bf16);
        CHECK(relative_error(low.to(dtype::f32), reference) <= 3e-2);
    };
    const tensor x = pattern({2, 4, 6, 6}, 1), w = pattern({4}, 2), b = pattern({4}, 3);
    const tensor m = pattern({3, 5}, 4), n = pattern({5, 4}, 5), lw = pattern({6, 5}, 6), lb = pattern({6}, 7);
    close(matmul(bf(m), bf(n)), matmul(m, n));
    close(linear(bf(m), bf(lw), bf(lb)), linear(m, lw, lb));
    close(softmax(bf(m), 1), softmax(m, 1));
    close(group_norm(bf(x), 2, w, b), group_norm(x, 2, w, b));
    close(layer_norm(bf(x), pattern({6}, 8), pattern({6}, 9)), layer_norm(x, pattern({6}, 8), pattern({6}, 9)));
    close(max_pool2d(bf(x), 2, 2), max_pool2d(x, 2, 2));
    close(interpolate(bf(x), {12, 12}, "bilinear"), interpolate(x, {12, 12}, "bilinear"));
    close(attention(bf(m.unsqueeze(0)), bf(m.unsqueeze(0)), bf(m.unsqueeze(0)), 1),
          attention(m.unsqueeze(0), m.unsqueeze(0), m.unsqueeze(0), 1));
}
