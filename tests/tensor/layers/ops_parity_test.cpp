// SPDX-License-Identifier: Apache-2.0
// PyTorch parity of ops.h: pointwise functions, broadcasting arithmetic, reductions, joins,
// embedding and losses; outputs and input gradients against fixtures (op_*.safetensors).
#include <difflab/tensor/ops.h>

#include "layers_testing.h"

using namespace difflab;
using namespace difflab::layers_testing;

namespace {

constexpr double tolerance = 1e-4;  // f32 against PyTorch's float64 reference

using op_fn = std::function<tensor(const std::vector<tensor>&, const fixture&)>;

/// Runs `op` on the fixture's `inputs` (leaves), seeds backward with grad_out and compares out
/// and each grad_<input>. With `strided`, the first input is given as a non-dense view.
void compare(const std::string& name, const std::vector<std::string>& inputs, const op_fn& op, bool strided = false) {
    CAPTURE(name);
    CAPTURE(strided);
    const fixture f = load_fixture(name);
    std::vector<tensor> leaves;
    for (std::size_t i = 0; i < inputs.size(); ++i)
        leaves.push_back(leaf(i == 0 && strided ? strided_copy(f[inputs[i]]) : f[inputs[i]]));
    const tensor out = op(leaves, f);
    CHECK(relative_error(out, f["out"]) <= tolerance);
    out.backward(f["grad_out"]);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        CAPTURE(inputs[i]);
        REQUIRE(leaves[i].grad().defined());
        CHECK(relative_error(leaves[i].grad(), f["grad_" + inputs[i]]) <= tolerance);
    }
}

}  // namespace

TEST_CASE("pointwise functions match PyTorch, on dense and strided input") {
    const std::vector<std::pair<const char*, tensor (*)(const tensor&)>> unary{
        {"op_exp", exp},   {"op_log", log},   {"op_sqrt", sqrt},       {"op_abs", abs},  {"op_relu", relu},
        {"op_silu", silu}, {"op_gelu", gelu}, {"op_sigmoid", sigmoid}, {"op_tanh", tanh}};
    for (const auto& [name, fn] : unary)
        for (bool strided : {false, true})
            compare(
                name, {"x"}, [fn = fn](const std::vector<tensor>& t, const fixture&) { return fn(t[0]); }, strided);
    compare("op_pow", {"x"}, [](const std::vector<tensor>& t, const fixture& f) {
        return pow(t[0], f.params.at("exponent").get<float>());
    });
    compare("op_clamp", {"x"}, [](const std::vector<tensor>& t, const fixture& f) {
        return clamp(t[0], f.params.at("low").get<float>(), f.params.at("high").get<float>());
    });
}

TEST_CASE("broadcasting arithmetic matches PyTorch, gradients reduced to each input's shape") {
    const std::vector<std::pair<const char*, tensor (*)(const tensor&, const tensor&)>> binary{
        {"op_add_broadcast", add}, {"op_sub_broadcast", sub}, {"op_mul_broadcast", mul}, {"op_div_broadcast", div}};
    for (const auto& [name, fn] : binary)
        for (bool strided : {false, true})
            compare(
                name, {"a", "b"}, [fn = fn](const std::vector<tensor>& t, const fixture&) { return fn(t[0], t[1]); },
                strided);
}

TEST_CASE("sum, mean and concat match PyTorch") {
    compare("op_sum", {"x"}, [](const std::vector<tensor>& t, const fixture&) { return sum(t[0], {0, 2}); });
    compare("op_mean", {"x"}, [](const std::vector<tensor>& t, const fixture&) { return mean(t[0], {1}, true); });
    compare("op_concat", {"a", "b"}, [](const std::vector<tensor>& t, const fixture&) {
        return concat({t[0], t[1]}, 1);
    });
}

TEST_CASE("embedding and the losses match PyTorch") {
    compare("op_embedding", {"table"},
            [](const std::vector<tensor>& t, const fixture& f) { return embedding(t[0], f["ids"]); });
    compare("op_mse_loss", {"prediction", "target"},
            [](const std::vector<tensor>& t, const fixture&) { return mse_loss(t[0], t[1]); });
    compare("op_l1_loss", {"prediction", "target"},
            [](const std::vector<tensor>& t, const fixture&) { return l1_loss(t[0], t[1]); });
    compare("op_cross_entropy", {"logits"},
            [](const std::vector<tensor>& t, const fixture& f) { return cross_entropy(t[0], f["labels"]); });
    compare("op_bce_with_logits", {"logits"}, [](const std::vector<tensor>& t, const fixture& f) {
        return binary_cross_entropy_with_logits(t[0], f["targets"]);
    });
}
