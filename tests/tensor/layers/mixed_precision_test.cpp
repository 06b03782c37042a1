// SPDX-License-Identifier: Apache-2.0
// Mixed precision: f32 layers computing in bf16 under a precision_scope, against PyTorch's fixtures.
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/precision.h>

#include "layers_testing.h"

using namespace difflab;
using namespace difflab::layers_testing;

namespace {

// bf16 keeps 8 bits of mantissa (a relative rounding error up to 2^-9 per operand); products
// accumulate in f32, so a layer's error stays near that of one rounding, far above f32's.
constexpr double bf16_bound = 2e-2;
constexpr double f32_error = 1e-4;  // parity_test's f32 tolerance: below it, nothing was rounded

/// Runs `op` on f32 leaves of the fixture's inputs under a bf16 compute precision, then its
/// backward outside that scope (a node keeps its forward's precision), and checks that output
/// and gradients stay f32, within bf16's error of PyTorch's, and above f32's (they were rounded).
void compare_bf16(const fixture& f, const std::vector<std::string>& inputs, bool channels_last,
                  const std::function<tensor(const std::vector<tensor>&)>& op) {
    std::vector<tensor> leaves;
    for (std::size_t i = 0; i < inputs.size(); ++i)
        leaves.push_back(leaf(i == 0 && channels_last ? f[inputs[i]].to_channels_last() : f[inputs[i]]));
    tensor out;
    {
        const precision_scope bf16(dtype::bf16);
        out = op(leaves);
    }
    CHECK(compute_precision() == dtype::f32);
    CHECK(out.type() == dtype::f32);
    if (channels_last) CHECK(out.is_channels_last());
    const double error = relative_error(out, f["out"]);
    CHECK(error <= bf16_bound);
    CHECK(error > f32_error);
    out.backward(f["grad_out"]);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        CAPTURE(inputs[i]);
        const tensor grad = leaves[i].grad();
        REQUIRE(grad.defined());
        CHECK(grad.type() == dtype::f32);
        const double grad_error = relative_error(grad, f["grad_" + inputs[i]]);
        CHECK(grad_error <= bf16_bound);
        // A bias gradient sums the f32 output gradient: nothing there is rounded.
        if (inputs[i] != "bias" && inputs[i] != "residual") CHECK(grad_error > f32_error);
    }
}

}  // namespace

TEST_CASE("compute_precision is f32 by default and scopes nest") {
    CHECK(compute_precision() == dtype::f32);
    {
        const precision_scope outer(dtype::bf16);
        CHECK(compute_precision() == dtype::bf16);
        {
            const precision_scope inner(dtype::f32);
            CHECK(compute_precision() == dtype::f32);
        }
        CHECK(compute_precision() == dtype::bf16);
    }
    CHECK(compute_precision() == dtype::f32);
    CHECK(parse_precision("bf16") == dtype::bf16);
    CHECK(parse_precision("fp32") == dtype::f32);
    CHECK_THROWS_WITH(parse_precision("fp16"), doctest::Contains("use fp32 or bf16"));
}

TEST_CASE("conv2d, conv2d_add and conv3d compute in bf16 under a bf16 precision") {
    const fixture conv = load_fixture("conv2d");
    for (bool channels_last : {false, true}) {
        CAPTURE(channels_last);
        compare_bf16(conv, {"x", "weight", "bias"}, channels_last,
                     [&](const std::vector<tensor>& t) { return conv2d(t[0], t[1], t[2], conv_options_of(conv)); });
    }
    const fixture add = load_fixture("conv2d_add");
    compare_bf16(add, {"x", "weight", "bias", "residual"}, true, [&](const std::vector<tensor>& t) {
        return conv2d_add(t[0], t[1], t[2], t[3], conv_options_of(add));
    });
    const fixture conv3 = load_fixture("conv3d");
    compare_bf16(conv3, {"x", "weight", "bias"}, true,
                 [&](const std::vector<tensor>& t) { return conv3d(t[0], t[1], t[2], conv_options_of(conv3)); });
}

TEST_CASE("linear, matmul and attention compute in bf16 under a bf16 precision") {
    compare_bf16(load_fixture("linear"), {"x", "weight", "bias"}, false,
                 [](const std::vector<tensor>& t) { return linear(t[0], t[1], t[2]); });
    compare_bf16(load_fixture("matmul_broadcast"), {"a", "b"}, false,
                 [](const std::vector<tensor>& t) { return matmul(t[0], t[1]); });
    const fixture f = load_fixture("attention_cross");
    const std::int64_t heads = f.params.at("heads");
    compare_bf16(f, {"q", "k", "v"}, false,
                 [&](const std::vector<tensor>& t) { return attention(t[0], t[1], t[2], heads); });
}

TEST_CASE("a bf16 precision leaves f32 normalization and pointwise ops exact") {
    const fixture f = load_fixture("group_norm_silu");
    const std::int64_t groups = f.params.at("groups");
    const precision_scope bf16(dtype::bf16);
    const tensor out = group_norm_silu(f["x"], groups, f["weight"], f["bias"]);
    CHECK(out.type() == dtype::f32);
    CHECK(relative_error(out, f["out"]) <= f32_error);
}
