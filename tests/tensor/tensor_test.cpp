// SPDX-License-Identifier: Apache-2.0
// Tensor storage, construction, views and copies: alias semantics and values.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/tensor.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdint>
#include <numeric>

using namespace difflab;

namespace {
tensor arange(const shape_t& shape) {
    std::vector<float> values(static_cast<std::size_t>(shape_numel(shape)));
    std::iota(values.begin(), values.end(), 0.0f);
    return tensor::from_vector(shape, values);
}
}  // namespace

TEST_CASE("storage is 64-byte aligned and tensors know their shape") {
    tensor t = tensor::zeros({2, 3, 4});
    CHECK(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64 == 0);
    CHECK(t.dim() == 3);
    CHECK(t.numel() == 24);
    CHECK(t.size(-1) == 4);
    CHECK(t.strides() == shape_t{12, 4, 1});
    CHECK(t.is_contiguous());
    CHECK_FALSE(t.is_channels_last());
    CHECK(tensor::full({2}, 3.5f).to_vector() == std::vector<float>{3.5f, 3.5f});
    CHECK(tensor::scalar(2.0f).item() == 2.0f);
    CHECK(tensor::scalar(2.0f).dim() == 0);
    CHECK_THROWS_WITH_AS(tensor::scalar(2.0f).size(0), "error: size: a 0-D tensor has no dimension 0", error);
    CHECK(tensor::scalar(2.0f).unsqueeze(0).shape() == shape_t{1});
    CHECK(tensor::scalar(2.0f).view({1, 1}).item() == 2.0f);
    CHECK_THROWS_WITH_AS(t.size(3), "error: size: dimension 3 is out of range for a 3-D tensor; use 0..2 or -1..-3",
                         error);
    CHECK_THROWS_AS(tensor::from_vector({2, 2}, {1, 2, 3}), error);
    CHECK_THROWS_WITH_AS(tensor().shape(), "error: shape: the tensor is undefined; create it before use", error);
}

TEST_CASE("channels-last tensors are NHWC in memory") {
    tensor t = tensor::empty_channels_last({2, 3, 4, 5});
    CHECK(t.strides() == shape_t{60, 1, 15, 3});
    CHECK(t.is_channels_last());
    CHECK_FALSE(t.is_contiguous());
    tensor x = arange({2, 3, 4, 5});
    tensor cl = x.to_channels_last();
    CHECK(cl.is_channels_last());
    CHECK(cl.to_vector() == x.to_vector());
    CHECK(cl.to_channels_last().shares_storage_with(cl));
    // NHWC memory: element (n=0, c=1, h=0, w=0) sits right after (0, 0, 0, 0).
    CHECK(cl.data<float>()[1] == 20.0f);
    tensor back = cl.contiguous();
    CHECK(back.is_contiguous());
    CHECK(back.to_vector() == x.to_vector());
    tensor t5 = tensor::empty_channels_last({1, 2, 3, 4, 5});
    CHECK(t5.strides() == shape_t{120, 1, 40, 10, 2});
    CHECK_THROWS_AS(tensor::empty_channels_last({2, 3}), error);
}

TEST_CASE("views share storage, copies never alias") {
    tensor x = arange({2, 3});
    tensor v = x.view({3, 2});
    CHECK(v.shares_storage_with(x));
    v.fill_(1.0f);
    CHECK(x.to_vector() == std::vector<float>(6, 1.0f));

    tensor c = x.clone();
    CHECK_FALSE(c.shares_storage_with(x));
    c.fill_(5.0f);
    CHECK(x.to_vector() == std::vector<float>(6, 1.0f));

    tensor y = arange({2, 3});
    tensor yt = y.transpose(0, 1);
    CHECK(yt.shape() == shape_t{3, 2});
    CHECK(yt.to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
    CHECK_FALSE(yt.is_contiguous());
    CHECK(yt.contiguous().is_contiguous());
    CHECK_FALSE(yt.contiguous().shares_storage_with(y));
    CHECK(y.contiguous().shares_storage_with(y));
    // A transposed tensor cannot be viewed flat; reshape copies.
    CHECK_THROWS_AS(yt.view({6}), error);
    tensor flat = yt.reshape({6});
    CHECK(flat.to_vector() == std::vector<float>{0, 3, 1, 4, 2, 5});
    CHECK_FALSE(flat.shares_storage_with(y));
    CHECK(y.reshape({3, -1}).shares_storage_with(y));
    CHECK(y.reshape({3, -1}).shape() == shape_t{3, 2});
}

TEST_CASE("slice, permute, squeeze, unsqueeze and expand") {
    tensor x = arange({3, 4});
    CHECK(x.slice(1, 1, 3).to_vector() == std::vector<float>{1, 2, 5, 6, 9, 10});
    CHECK(x.slice(1, 0, 4, 2).to_vector() == std::vector<float>{0, 2, 4, 6, 8, 10});
    CHECK(x.slice(0, -1, 3).to_vector() == std::vector<float>{8, 9, 10, 11});
    CHECK(x.slice(0, 2, 100).shape() == shape_t{1, 4});
    tensor p = arange({2, 3, 4}).permute({2, 0, 1});
    CHECK(p.shape() == shape_t{4, 2, 3});
    CHECK(p.to_vector()[1] == 4.0f);
    CHECK(x.unsqueeze(0).shape() == shape_t{1, 3, 4});
    CHECK(x.unsqueeze(-1).shape() == shape_t{3, 4, 1});
    CHECK(x.unsqueeze(1).squeeze(1).shape() == shape_t{3, 4});
    CHECK_THROWS_WITH_AS(x.squeeze(0), "error: squeeze: dimension 0 of [3, 4] has size 3, not 1", error);
    tensor row = tensor::from_vector({1, 3}, {1, 2, 3});
    tensor e = row.expand({2, 2, 3});
    CHECK(e.strides() == shape_t{0, 0, 1});
    CHECK(e.to_vector() == std::vector<float>{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3});
    CHECK_THROWS_AS(x.expand({3, 5}), error);
    CHECK_THROWS_AS(x.permute({0, 0}), error);
}

TEST_CASE("copy_ broadcasts, converts and survives overlap") {
    tensor x = tensor::zeros({2, 3});
    x.copy_(tensor::from_vector({3}, {1, 2, 3}));
    CHECK(x.to_vector() == std::vector<float>{1, 2, 3, 1, 2, 3});
    // Overlapping source and target (a shifted view of the same storage).
    tensor y = arange({5});
    y.slice(0, 1, 5).copy_(y.slice(0, 0, 4));
    CHECK(y.to_vector() == std::vector<float>{0, 0, 1, 2, 3});
    tensor b = tensor::zeros({2, 3}, dtype::bf16);
    b.copy_(x);
    CHECK(b.type() == dtype::bf16);
    CHECK(b.to_vector() == x.to_vector());
}

TEST_CASE("bf16 rounds to nearest even") {
    CHECK(bf16(1.0f).bits == 0x3f80);
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
    CHECK(bf16(1.00390625f).bits == 0x3f80);
    // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: rounds up to the even one.
    CHECK(bf16(1.01171875f).bits == 0x3f82);
    CHECK(static_cast<float>(bf16(-2.5f)) == -2.5f);
    tensor t = tensor::from_vector({3}, {1.0f, 0.1f, -3.0f}).to(dtype::bf16);
    CHECK(t.type() == dtype::bf16);
    CHECK(t.data<bf16>()[0].bits == 0x3f80);
    CHECK(t.to_vector()[1] == doctest::Approx(0.1f).epsilon(1e-2));
    CHECK_THROWS_AS(t.data<float>(), error);
    CHECK(t.to(dtype::f32).type() == dtype::f32);
}

TEST_CASE("printing names shape, dtype and values") {
    tensor x = arange({2, 3});
    CHECK(to_string(x) == "tensor([2, 3], f32)\n[[0, 1, 2],\n [3, 4, 5]]");
    CHECK(fmt::format("{}", tensor::scalar(1.5f)) == "tensor([], f32)\n1.5");
    const std::string long_row = to_string(arange({10}));
    CHECK(long_row == "tensor([10], f32)\n[0, 1, 2, ..., 7, 8, 9]");
}
