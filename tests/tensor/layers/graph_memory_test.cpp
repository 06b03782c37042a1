// SPDX-License-Identifier: Apache-2.0
// What the autograd graph keeps alive until the backward: only what each backward reads.
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/precision.h>

#include <memory>

#include "layers_testing.h"

using namespace difflab;
using namespace difflab::layers_testing;

namespace {

/// An intermediate of a recorded graph (the output of an op on a leaf), as the activations
/// inside a network are.
tensor intermediate(const tensor& leaf_input) {
    return mul(leaf_input, tensor::scalar(2.0f));
}

/// A scalar loss whose gradient differs per element (a plain sum would give softmax none).
tensor loss_of(const tensor& out) {
    return sum(mul(out, pattern(out.shape(), 99)));
}

/// Runs `op` on an intermediate computed from a leaf, drops the caller's handle on that
/// intermediate, and says whether its storage outlived the handle (the graph kept it). The
/// backward then runs, and the leaf's gradient must equal the one of the same graph built
/// while the intermediate was still held: dropping the data broke nothing.
bool graph_keeps_input(const tensor& value, const std::function<tensor(const tensor&)>& op) {
    const tensor reference_leaf = value.clone().set_requires_grad();
    const tensor held = intermediate(reference_leaf);
    loss_of(op(held)).backward();

    const tensor x = value.clone().set_requires_grad();
    tensor h = intermediate(x);
    const std::weak_ptr<storage> data = h.storage_ptr();
    const tensor out = op(h);
    h = tensor();
    const bool kept = !data.expired();
    loss_of(out).backward();
    CHECK(relative_error(x.grad(), reference_leaf.grad()) == 0.0);
    return kept;
}

tensor image(std::int64_t channels, std::uint32_t seed) {
    return pattern({2, channels, 6, 6}, seed).to_channels_last();
}

}  // namespace

TEST_CASE("the graph keeps no data its backwards do not read") {
    SUBCASE("an op whose backward reads its input keeps it (the check can see data kept)") {
        const tensor gamma = tensor::ones({4}), beta = tensor::zeros({4});
        CHECK(graph_keeps_input(image(4, 1), [&](const tensor& h) { return group_norm(h, 2, gamma, beta); }));
        CHECK(graph_keeps_input(image(4, 1), [](const tensor& h) { return mul(h, h); }));
    }
    SUBCASE("sums, resampling, pooling and softmax read shapes or their output") {
        const tensor shift = pattern({2, 4, 6, 6}, 9);
        CHECK_FALSE(graph_keeps_input(image(4, 2), [&](const tensor& h) { return add(h, shift); }));
        CHECK_FALSE(graph_keeps_input(image(4, 3), [](const tensor& h) {
            return interpolate(h, {12, 12}, "nearest");
        }));
        CHECK_FALSE(graph_keeps_input(image(4, 4), [](const tensor& h) { return interpolate(h, {9, 9}, "bilinear"); }));
        CHECK_FALSE(graph_keeps_input(image(4, 5), [](const tensor& h) { return avg_pool2d(h, 2, 2); }));
        CHECK_FALSE(graph_keeps_input(image(4, 6), [](const tensor& h) { return max_pool2d(h, 2, 2); }));
        CHECK_FALSE(graph_keeps_input(pattern({3, 5}, 7), [](const tensor& h) { return softmax(h, 1); }));
    }
    SUBCASE("a convolution keeps its input only for a weight gradient, and not its residual") {
        const tensor weight = pattern({4, 4, 3, 3}, 10).set_requires_grad();
        const tensor frozen = pattern({4, 4, 3, 3}, 11);
        const tensor bias = tensor::zeros({4});
        conv_options same;
        same.padding = 1;
        CHECK(graph_keeps_input(image(4, 12), [&](const tensor& h) { return conv2d(h, weight, bias, same); }));
        CHECK_FALSE(graph_keeps_input(image(4, 13), [&](const tensor& h) { return conv2d(h, frozen, bias, same); }));
        const tensor input = image(4, 14);
        CHECK_FALSE(
            graph_keeps_input(image(4, 15), [&](const tensor& h) { return conv2d_add(input, weight, bias, h, same); }));
    }
    SUBCASE("in bf16 a convolution keeps the bf16 copy it computed on, not the f32 input") {
        const tensor weight = pattern({4, 4, 3, 3}, 16).set_requires_grad();
        conv_options same;
        same.padding = 1;
        const auto conv_bf16 = [&](const tensor& h) {
            const precision_scope bf16(dtype::bf16);
            return conv2d(h, weight, tensor(), same);
        };
        CHECK_FALSE(graph_keeps_input(image(4, 17), conv_bf16));
        // Row-major inputs go through oneDNN's blocked layouts; those keep the f32 input.
        CHECK(graph_keeps_input(pattern({2, 4, 6, 6}, 18), conv_bf16));
    }
}

TEST_CASE("gradients() reaches an intermediate whose data the graph let go") {
    const tensor x = pattern({2, 3}, 19).set_requires_grad();
    tensor h = intermediate(x);
    const tensor y = add(h, tensor::scalar(1.0f));
    const auto grads = gradients(sum(y), {h, x});
    CHECK(grads[0].to_vector() == std::vector<float>(6, 1.0f));
    CHECK(grads[1].to_vector() == std::vector<float>(6, 2.0f));
}
