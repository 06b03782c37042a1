// SPDX-License-Identifier: Apache-2.0
// PyTorch parity of the oneDNN layers: outputs and input/weight gradients against fixtures.
#include <difflab/base/threads.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>

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

namespace {

/// One group norm case of the layout comparisons below.
struct norm_case {
    shape_t shape;
    std::int64_t groups;
    bool affine;
};

/// Forward output and the x, weight, bias gradients (seeded with `grad`) of group_norm or
/// group_norm_silu on `x` as laid out.
std::vector<tensor> norm_run(bool silu, const tensor& x, std::int64_t groups, const tensor& w, const tensor& b,
                             const tensor& grad) {
    const tensor xs = leaf(x), ws = w.defined() ? leaf(w) : tensor(), bs = b.defined() ? leaf(b) : tensor();
    const tensor out = silu ? group_norm_silu(xs, groups, ws, bs) : group_norm(xs, groups, ws, bs);
    out.backward(grad);
    return {out, xs.grad(), ws.defined() ? ws.grad() : tensor(), bs.defined() ? bs.grad() : tensor()};
}

}  // namespace

TEST_CASE("channels-last group_norm and group_norm_silu equal the row-major path") {
    // Channels-last input runs its own loops over NHWC memory; row-major input runs oneDNN's
    // layer normalization over the (N, G, C/G * H * W) view. Forward and all gradients agree.
    const std::vector<norm_case> cases = {
        {{2, 8, 5, 7}, 8, true},      // one channel per group, odd H*W
        {{1, 6, 3, 3}, 3, true},      // batch 1
        {{3, 12, 4, 5}, 1, true},     // one group
        {{2, 4, 3, 5}, 2, false},     // no weight, no bias
        {{2, 6, 2, 3, 3}, 3, true},   // 5-D, NDHWC
        {{2, 64, 28, 28}, 32, true},  // the U-Net's shape
        {{1, 16, 65, 67}, 4, true},   // 69680 values: a sample spans two blocks of the loops
    };
    std::uint32_t seed = 100;
    for (const norm_case& c : cases) {
        for (bool silu : {false, true}) {
            const std::string label = shape_text(c.shape) + (silu ? " group_norm_silu" : " group_norm");
            CAPTURE(label);
            CAPTURE(c.groups);
            const std::int64_t channels = c.shape[1];
            // Off-zero mean (4, spread 0.5): the statistics must not cancel away precision.
            const tensor x = pattern(c.shape, ++seed) * 0.5f + 4.0f, g = pattern(c.shape, ++seed);
            const tensor w = c.affine ? pattern({channels}, ++seed) + 1.0f : tensor();
            const tensor b = c.affine ? pattern({channels}, ++seed) : tensor();
            const std::vector<tensor> rows = norm_run(silu, x, c.groups, w, b, g);
            const std::vector<tensor> last = norm_run(silu, x.to_channels_last(), c.groups, w, b, g.to_channels_last());
            CHECK(last[0].is_channels_last());
            const char* names[] = {"out", "grad x", "grad weight", "grad bias"};
            for (std::size_t i = 0; i < rows.size(); ++i) {
                const std::string what = names[i];
                CAPTURE(what);
                REQUIRE(rows[i].defined() == last[i].defined());
                if (rows[i].defined()) CHECK(relative_error(last[i], rows[i]) <= 1e-5);
            }
        }
    }
}

TEST_CASE("channels-last group_norm statistics stay exact far from zero mean") {
    // Known answer: the definition in double. Mean 100, spread 0.5 (a ratio of 200): a float
    // E[x^2] - E[x]^2 would lose every digit of the variance.
    const shape_t shape{2, 6, 5, 3};
    const std::int64_t groups = 2, per_group = 3, spatial = 15;
    const tensor x = pattern(shape, 7) * 0.5f + 100.0f;
    const std::vector<float> values = x.to_vector();
    std::vector<float> expected(values.size());
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t g = 0; g < groups; ++g) {
            const std::size_t first = static_cast<std::size_t>((n * groups + g) * per_group * spatial);
            const std::size_t count = static_cast<std::size_t>(per_group * spatial);
            double mean = 0, variance = 0;
            for (std::size_t i = first; i < first + count; ++i) mean += values[i];
            mean /= static_cast<double>(count);
            for (std::size_t i = first; i < first + count; ++i) variance += (values[i] - mean) * (values[i] - mean);
            variance /= static_cast<double>(count);
            for (std::size_t i = first; i < first + count; ++i)
                expected[i] = static_cast<float>((values[i] - mean) / std::sqrt(variance + 1e-5));
        }
    const tensor out = group_norm(x.to_channels_last(), groups, tensor(), tensor());
    CHECK(relative_error(out, tensor::from_vector(shape, expected)) <= 1e-5);
}

TEST_CASE("channels-last group_norm_silu does not depend on the thread count") {
    // Two blocks per sample: their sums combine in a fixed order whichever thread made them.
    const tensor x = pattern({2, 16, 65, 67}, 11).to_channels_last(), g = pattern({2, 16, 65, 67}, 12);
    const tensor w = pattern({16}, 13), b = pattern({16}, 14);
    const auto run = [&] {
        std::vector<float> all;
        for (const tensor& t : norm_run(true, x, 4, w, b, g)) {
            const std::vector<float> v = t.to_vector();
            all.insert(all.end(), v.begin(), v.end());
        }
        return all;
    };
    const int threads = thread_count();
    set_thread_count(1);
    const std::vector<float> one = run();
    set_thread_count(3);
    const std::vector<float> three = run();
    set_thread_count(threads);
    CHECK(one == three);
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
