// SPDX-License-Identifier: Apache-2.0
// The oneDNN layers reject bad operands with one-line errors that say how to fix them.
#include <difflab/base/error.h>
#include <difflab/tensor/nn_ops.h>

#include "layers_testing.h"

using namespace difflab;

namespace {

std::string message_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("layers name the op and the mismatch in one line") {
    const tensor x = tensor::zeros({1, 4, 5, 5});
    const std::string conv = message_of([&] { conv2d(x, tensor::zeros({8, 3, 3, 3}), tensor()); });
    CHECK(conv.find("error: conv2d:") == 0);
    CHECK(conv.find("[8, 3, 3, 3]") != std::string::npos);
    CHECK(conv.find('\n') == std::string::npos);
    CHECK(message_of([&] {
              matmul(tensor::zeros({2, 3}), tensor::zeros({4, 5}));
          }).find("inner sizes 3 and 4") != std::string::npos);
    CHECK(message_of([&] { group_norm(x, 3, tensor(), tensor()); }).find("do not split into 3 groups") !=
          std::string::npos);
    CHECK(message_of([&] { interpolate(x, {2, 2}, "cubic"); }).find("unknown mode 'cubic'") != std::string::npos);
    CHECK(message_of([&] {
              attention(tensor::zeros({1, 2, 6}), tensor::zeros({1, 3, 6}), tensor::zeros({1, 3, 6}), 4);
          }).find("4 heads do not divide") != std::string::npos);
}

TEST_CASE("the same computation twice is bitwise equal") {
    const tensor x = layers_testing::pattern({2, 8, 6, 6}, 3).to_channels_last();
    const tensor w = layers_testing::pattern({8, 8, 3, 3}, 4);
    conv_options o;
    o.padding = 1;
    const std::vector<float> a = group_norm(conv2d(x, w, tensor(), o), 4, tensor(), tensor()).to_vector();
    const std::vector<float> b = group_norm(conv2d(x, w, tensor(), o), 4, tensor(), tensor()).to_vector();
    CHECK(a == b);
}

TEST_CASE("broadcast (stride-0) views are read like their dense copies") {
    const tensor row = layers_testing::pattern({1, 5}, 9);
    const tensor wide = row.expand({3, 5});
    CHECK(softmax(wide, 1).to_vector() == softmax(wide.contiguous(), 1).to_vector());
    CHECK(matmul(wide, layers_testing::pattern({5, 2}, 10)).to_vector() ==
          matmul(wide.contiguous(), layers_testing::pattern({5, 2}, 10)).to_vector());
    const tensor image = layers_testing::pattern({1, 2, 1, 4}, 11).expand({2, 2, 3, 4});
    CHECK(layers_testing::relative_error(avg_pool2d(image, 2, 1), avg_pool2d(image.contiguous(), 2, 1)) == 0.0);
}
