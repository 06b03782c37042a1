// SPDX-License-Identifier: Apache-2.0
// The autograd engine: views, accumulation, gradients() w.r.t. inputs, no_grad_guard.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/tensor.h>
#include <doctest/doctest.h>

#include "gradcheck.h"

using namespace difflab;

TEST_CASE("gradients flow through views into leaves and accumulate") {
    tensor x = tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6}).set_requires_grad();
    tensor y = x.transpose(0, 1).slice(0, 1, 3);  // [[2, 5], [3, 6]]
    CHECK(y.requires_grad());
    y.backward(tensor::from_vector({2, 2}, {1, 2, 3, 4}));
    CHECK(x.grad().to_vector() == std::vector<float>{0, 1, 3, 0, 2, 4});
    // A second backward accumulates.
    y.backward(tensor::from_vector({2, 2}, {1, 1, 1, 1}));
    CHECK(x.grad().to_vector() == std::vector<float>{0, 2, 4, 0, 3, 5});
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("expand sums its gradient over broadcast dims") {
    tensor b = tensor::from_vector({3, 1}, {1, 2, 3}).set_requires_grad();
    tensor e = b.expand({2, 3, 4});
    e.backward(tensor::ones({2, 3, 4}));
    CHECK(b.grad().to_vector() == std::vector<float>{8, 8, 8});
}

TEST_CASE("gradients() leaves .grad alone and handles unused inputs") {
    tensor x = tensor::from_vector({2}, {1, 2}).set_requires_grad();
    tensor unused = tensor::zeros({3}).set_requires_grad();
    tensor y = x.unsqueeze(0).expand({3, 2}).reshape({6});
    const auto grads = gradients(y, {x, unused, y}, tensor::ones({6}));
    CHECK(grads[0].to_vector() == std::vector<float>{3, 3});
    CHECK(grads[1].to_vector() == std::vector<float>{0, 0, 0});
    CHECK(grads[2].to_vector() == std::vector<float>(6, 1.0f));
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("no_grad_guard stops recording") {
    tensor x = tensor::zeros({2}).set_requires_grad();
    {
        no_grad_guard guard;
        CHECK_FALSE(grad_enabled());
        CHECK_FALSE(x.view({1, 2}).requires_grad());
    }
    CHECK(grad_enabled());
    CHECK(x.view({1, 2}).requires_grad());
    CHECK_FALSE(x.detach().requires_grad());
    CHECK(x.view({1, 2}).detach().grad_fn().get() == nullptr);
}

TEST_CASE("backward reports misuse clearly") {
    tensor x = tensor::zeros({2});
    CHECK_THROWS_WITH_AS(x.backward(tensor::ones({2})),
                         "error: backward: the output does not require grad; mark an input with set_requires_grad() "
                         "and compute it outside a no_grad_guard",
                         error);
    tensor y = tensor::zeros({2}).set_requires_grad();
    CHECK_THROWS_WITH_AS(y.view({2}).backward(),
                         "error: backward: the output [2] has 2 elements; backward() without a gradient needs a single "
                         "value (reduce with sum()/mean() first, or pass the output's gradient)",
                         error);
    CHECK_THROWS_AS(y.view({2}).set_requires_grad(), error);
}

TEST_CASE("gradcheck catches a wrong backward") {
    // y = 3x recorded with the backward of y = 2x: the checker must reject it.
    auto wrong = [](const std::vector<tensor>& in) {
        tensor x = in[0];
        std::vector<float> v = x.to_vector();
        for (float& e : v) e *= 3.0f;
        tensor y = tensor::from_vector(x.shape(), v);
        record(y, "wrong", {x}, [](const tensor& grad) {
            std::vector<float> g = grad.to_vector();
            for (float& e : g) e *= 2.0f;
            return std::vector<tensor>{tensor::from_vector(grad.shape(), g)};
        });
        return y;
    };
    const auto r = difflab::testing::gradcheck(wrong, {tensor::from_vector({3}, {1, 2, 3})});
    CHECK_FALSE(r.ok);
    CHECK(r.checked == 3);
    CHECK(r.report.find("input 0 [3] entry 0") != std::string::npos);
}
