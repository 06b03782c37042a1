// SPDX-License-Identifier: Apache-2.0
// multi_head_attention: PyTorch parity of the module, parameter names, shape errors.
#include <difflab/base/error.h>
#include <difflab/tensor/attention.h>

#include "layers_testing.h"

using namespace difflab;
using namespace difflab::layers_testing;
using difflab::nn::multi_head_attention;

TEST_CASE("multi_head_attention (cross) matches PyTorch, with parameter and input gradients") {
    const fixture f = load_fixture("attention_module_cross");
    multi_head_attention attention(f.params.at("dim"), f.params.at("heads"), f.params.at("context_dim"), 0);
    state_dict_t state;
    for (const auto& [name, value] : attention.state_dict()) state[name] = f[name];
    attention.load_state_dict(state);
    const tensor x = leaf(f["x"]), context = leaf(f["context"]);
    const tensor out = attention.forward(x, context);
    CHECK(relative_error(out, f["out"]) <= 1e-4);
    out.backward(f["grad_out"]);
    CHECK(relative_error(x.grad(), f["grad_x"]) <= 1e-4);
    CHECK(relative_error(context.grad(), f["grad_context"]) <= 1e-4);
    for (const auto& [name, parameter] : attention.named_parameters()) {
        CAPTURE(name);
        REQUIRE(parameter.grad().defined());
        CHECK(relative_error(parameter.grad(), f["grad_" + name]) <= 1e-4);
    }
}

TEST_CASE("multi_head_attention names its parameters like diffusers and checks shapes") {
    multi_head_attention self(8, 2, 0, 1);
    std::vector<std::string> names;
    for (const auto& [name, parameter] : self.named_parameters()) names.push_back(name);
    CHECK(names ==
          std::vector<std::string>{"to_q.weight", "to_k.weight", "to_v.weight", "to_out.weight", "to_out.bias"});
    CHECK(self.forward(pattern({1, 3, 8}, 1)).shape() == shape_t{1, 3, 8});
    CHECK_THROWS_AS(self.forward(pattern({1, 3, 6}, 1)), error);
    CHECK_THROWS_AS(multi_head_attention(8, 3, 0, 1), config_error);
    multi_head_attention cross(8, 2, 6, 1);
    CHECK_THROWS_AS(cross.forward(pattern({1, 3, 8}, 1)), error);
}

TEST_CASE("multi_head_attention self-attention gradients match finite differences") {
    multi_head_attention self(4, 2, 0, 7);
    check_gradients([&](const std::vector<tensor>& t) { return self.forward(t[0]); }, {pattern({1, 3, 4}, 5)}, 1e-2,
                    3e-2);
}
