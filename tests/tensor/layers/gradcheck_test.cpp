// SPDX-License-Identifier: Apache-2.0
// Finite-difference gradient checks of the oneDNN layers, across layouts and batch 1.
#include <difflab/tensor/nn_ops.h>

#include "layers_testing.h"

using namespace difflab;
using namespace difflab::layers_testing;

namespace {

using ops_fn = std::function<tensor(const std::vector<tensor>&)>;

tensor channels_last(const tensor& t) {
    return t.to_channels_last().detach();
}
tensor strided(const tensor& t) {
    return strided_copy(t).detach();
}

}  // namespace

TEST_CASE("conv2d gradients match finite differences") {
    SUBCASE("stride 2, padding 1, contiguous") {
        conv_options o;
        o.stride = 2;
        o.padding = 1;
        check_gradients([&](const std::vector<tensor>& t) { return conv2d(t[0], t[1], t[2], o); },
                        {pattern({2, 3, 5, 5}, 1), pattern({4, 3, 3, 3}, 2), pattern({4}, 3)});
    }
    SUBCASE("depthwise, dilation 2, channels-last, batch 1") {
        conv_options o;
        o.groups = 3;
        o.dilation = 2;
        o.padding = 2;
        check_gradients([&](const std::vector<tensor>& t) { return conv2d(t[0], t[1], t[2], o); },
                        {channels_last(pattern({1, 3, 6, 5}, 4)), pattern({6, 1, 3, 3}, 5), pattern({6}, 6)});
    }
    SUBCASE("strided input view, no bias") {
        check_gradients([](const std::vector<tensor>& t) { return conv2d(t[0], t[1], tensor()); },
                        {strided(pattern({2, 2, 4, 4}, 7)), pattern({3, 2, 2, 2}, 8)});
    }
}

TEST_CASE("conv2d_add gradients match finite differences") {
    conv_options o;
    o.padding = 1;
    check_gradients([&](const std::vector<tensor>& t) { return conv2d_add(t[0], t[1], t[2], t[3], o); },
                    {channels_last(pattern({1, 2, 4, 3}, 52)), pattern({3, 2, 3, 3}, 53), pattern({3}, 54),
                     pattern({1, 3, 4, 3}, 55)});
}

TEST_CASE("conv3d gradients match finite differences") {
    conv_options o;
    o.padding = 1;
    check_gradients([&](const std::vector<tensor>& t) { return conv3d(t[0], t[1], t[2], o); },
                    {channels_last(pattern({1, 2, 3, 4, 4}, 9)), pattern({2, 2, 3, 3, 3}, 10), pattern({2}, 11)});
}

TEST_CASE("linear gradients match finite differences") {
    SUBCASE("batched 3-D input") {
        check_gradients([](const std::vector<tensor>& t) { return linear(t[0], t[1], t[2]); },
                        {pattern({2, 3, 5}, 12), pattern({4, 5}, 13), pattern({4}, 14)});
    }
    SUBCASE("batch 1, strided input") {
        check_gradients([](const std::vector<tensor>& t) { return linear(t[0], t[1], t[2]); },
                        {strided(pattern({1, 5}, 15)), pattern({3, 5}, 16), pattern({3}, 17)});
    }
}

TEST_CASE("matmul gradients match finite differences") {
    SUBCASE("matrix broadcast over a batch") {
        check_gradients([](const std::vector<tensor>& t) { return matmul(t[0], t[1]); },
                        {pattern({2, 3, 4}, 18), pattern({4, 2}, 19)});
    }
    SUBCASE("batch dims broadcast both ways, transposed operand") {
        check_gradients([](const std::vector<tensor>& t) { return matmul(t[0], t[1].transpose(-2, -1)); },
                        {pattern({2, 1, 3, 4}, 20), pattern({3, 5, 4}, 21)});
    }
}

TEST_CASE("group_norm gradients match finite differences") {
    SUBCASE("contiguous") {
        check_gradients([](const std::vector<tensor>& t) { return group_norm(t[0], 2, t[1], t[2]); },
                        {pattern({2, 4, 3, 3}, 22), pattern({4}, 23), pattern({4}, 24)}, 1e-2, 3e-2);
    }
    SUBCASE("channels-last, batch 1") {
        check_gradients([](const std::vector<tensor>& t) { return group_norm(t[0], 3, t[1], t[2]); },
                        {channels_last(pattern({1, 6, 3, 2}, 25)), pattern({6}, 26), pattern({6}, 27)}, 1e-2, 3e-2);
    }
    SUBCASE("channels-last, one channel per group, odd H*W") {
        check_gradients([](const std::vector<tensor>& t) { return group_norm(t[0], 4, t[1], t[2]); },
                        {channels_last(pattern({2, 4, 3, 5}, 56)), pattern({4}, 57), pattern({4}, 58)}, 1e-2, 3e-2);
    }
    SUBCASE("channels-last, one group, weight only") {
        check_gradients([](const std::vector<tensor>& t) { return group_norm(t[0], 1, t[1], tensor()); },
                        {channels_last(pattern({2, 3, 2, 3}, 59)), pattern({3}, 60)}, 1e-2, 3e-2);
    }
    SUBCASE("channels-last, a sample over two blocks of the loops") {
        check_gradients([](const std::vector<tensor>& t) { return group_norm(t[0], 2, t[1], t[2]); },
                        {channels_last(pattern({1, 4, 129, 130}, 61)), pattern({4}, 62), pattern({4}, 63)}, 1e-2, 3e-2);
    }
}

TEST_CASE("group_norm_silu gradients match finite differences") {
    check_gradients([](const std::vector<tensor>& t) { return group_norm_silu(t[0], 2, t[1], t[2]); },
                    {channels_last(pattern({2, 4, 3, 3}, 44)), pattern({4}, 45), pattern({4}, 46)}, 1e-2, 3e-2);
    check_gradients([](const std::vector<tensor>& t) { return group_norm_silu(t[0], 1, tensor(), tensor()); },
                    {pattern({1, 2, 2, 3}, 47)}, 1e-2, 3e-2);
    // Channels-last: one channel per group, odd H*W, batch 1; one group without affine.
    check_gradients([](const std::vector<tensor>& t) { return group_norm_silu(t[0], 6, t[1], t[2]); },
                    {channels_last(pattern({1, 6, 3, 3}, 64)), pattern({6}, 65), pattern({6}, 66)}, 1e-2, 3e-2);
    check_gradients([](const std::vector<tensor>& t) { return group_norm_silu(t[0], 1, tensor(), tensor()); },
                    {channels_last(pattern({2, 3, 3, 2}, 67))}, 1e-2, 3e-2);
}

TEST_CASE("layer_norm gradients match finite differences") {
    check_gradients([](const std::vector<tensor>& t) { return layer_norm(t[0], t[1], t[2]); },
                    {pattern({2, 3, 6}, 28), pattern({6}, 29), pattern({6}, 30)}, 1e-2, 3e-2);
    check_gradients([](const std::vector<tensor>& t) { return layer_norm(t[0], t[1], tensor()); },
                    {strided(pattern({1, 5}, 48)), pattern({5}, 49)}, 1e-2, 3e-2);
}

TEST_CASE("softmax and log_softmax gradients match finite differences") {
    check_gradients([](const std::vector<tensor>& t) { return softmax(t[0], 1); }, {pattern({2, 5}, 31)});
    check_gradients([](const std::vector<tensor>& t) { return log_softmax(t[0], 1); }, {pattern({2, 3, 4}, 32)});
    check_gradients([](const std::vector<tensor>& t) { return softmax(t[0], -1); }, {strided(pattern({1, 3, 4}, 33))});
    check_gradients([](const std::vector<tensor>& t) { return log_softmax(t[0], 1); },
                    {channels_last(pattern({1, 4, 2, 3}, 50))});
}

TEST_CASE("pooling gradients match finite differences") {
    check_gradients([](const std::vector<tensor>& t) { return avg_pool2d(t[0], 2, 1); }, {pattern({2, 2, 4, 4}, 34)});
    check_gradients([](const std::vector<tensor>& t) { return avg_pool2d(t[0], 3, 2); },
                    {strided(pattern({1, 2, 5, 5}, 51))});
    check_gradients([](const std::vector<tensor>& t) { return max_pool2d(t[0], 2, 2); },
                    {channels_last(pattern({1, 3, 4, 6}, 35))}, 1e-3);
}

TEST_CASE("interpolate gradients match finite differences") {
    for (const char* mode : {"nearest", "bilinear"}) {
        const std::string label = mode;
        CAPTURE(label);
        check_gradients(
            [&](const std::vector<tensor>& t) {
                return interpolate(t[0], {7, 8}, mode);
            },
            {pattern({1, 2, 3, 4}, 36)});
        check_gradients(
            [&](const std::vector<tensor>& t) {
                return interpolate(t[0], {2, 3}, mode);
            },
            {channels_last(pattern({2, 3, 5, 6}, 37))});
    }
}

TEST_CASE("attention gradients match finite differences") {
    SUBCASE("self-attention, batch 1") {
        check_gradients([](const std::vector<tensor>& t) { return attention(t[0], t[1], t[2], 2); },
                        {pattern({1, 4, 6}, 38), pattern({1, 4, 6}, 39), pattern({1, 4, 6}, 40)}, 1e-2, 3e-2);
    }
    SUBCASE("cross-attention, strided query") {
        check_gradients([](const std::vector<tensor>& t) { return attention(t[0], t[1], t[2], 1); },
                        {strided(pattern({2, 3, 4}, 41)), pattern({2, 5, 4}, 42), pattern({2, 5, 2}, 43)}, 1e-2, 3e-2);
    }
}
