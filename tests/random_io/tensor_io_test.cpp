// SPDX-License-Identifier: Apache-2.0
// Tensor-level randomness (randn/rand per sample) and tensor <-> safetensors conversions.
#include <difflab/base/error.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>

#include <cstring>

using namespace difflab;

TEST_CASE("randn rows are the streams of their sample indices, whatever the batch") {
    const std::uint64_t noise = random_purpose("noise");
    const tensor batch = randn({8, 3, 4, 4}, 5, noise, 20);
    CHECK(batch.shape() == shape_t{8, 3, 4, 4});
    const std::vector<float> all = batch.to_vector();
    for (std::int64_t i = 0; i < 8; ++i) {
        const std::vector<float> one = randn({1, 3, 4, 4}, 5, noise, 20 + static_cast<std::uint64_t>(i)).to_vector();
        CHECK(std::equal(one.begin(), one.end(), all.begin() + i * 48));
    }
    std::vector<float> expected(48);
    philox_stream(5, noise, 23).normal(expected.data(), expected.size());
    CHECK(std::equal(expected.begin(), expected.end(), all.begin() + 3 * 48));

    float first = 0.0f;
    philox_stream(5, noise, 20).normal(&first, 1);
    CHECK(randn({}, 5, noise, 20).item() == first);
    CHECK(randn({0, 3}, 5, noise, 0).numel() == 0);

    const std::vector<float> u = rand({16, 10}, 5, noise, 0).to_vector();
    for (const float v : u) CHECK((v >= 0.0f && v < 1.0f));
    CHECK(rand({16, 10}, 5, noise, 0).to_vector() == u);
    CHECK(rand({16, 10}, 6, noise, 0).to_vector() != u);
}

TEST_CASE("tensors convert to safetensors entries in logical row-major order and back") {
    const tensor base = tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    const tensor transposed = base.transpose(0, 1);  // [3, 2], not contiguous
    const safetensors_entry entry = to_safetensors("t", transposed);
    CHECK(entry.dtype == "F32");
    CHECK(entry.shape == shape_t{3, 2});
    std::vector<float> values(6);
    REQUIRE(entry.data.size() == 24);
    std::memcpy(values.data(), entry.data.data(), 24);
    CHECK(values == std::vector<float>{1, 4, 2, 5, 3, 6});
    const tensor back = to_tensor(entry);
    CHECK(back.shape() == shape_t{3, 2});
    CHECK(back.is_contiguous());
    CHECK(back.to_vector() == values);

    const tensor half = tensor::from_vector({2}, {3.140625f, -2.0f}).to(dtype::bf16);
    const safetensors_entry half_entry = to_safetensors("h", half);
    CHECK(half_entry.dtype == "BF16");
    CHECK(half_entry.data == std::vector<std::uint8_t>{0x49, 0x40, 0x00, 0xc0});
    const tensor half_back = to_tensor(half_entry);
    CHECK(half_back.type() == dtype::bf16);
    CHECK(half_back.to_vector() == std::vector<float>{3.140625f, -2.0f});

    const tensor scalar = to_tensor(to_safetensors("s", tensor::scalar(7.5f)));
    CHECK(scalar.dim() == 0);
    CHECK(scalar.item() == 7.5f);

    CHECK_THROWS_WITH_AS(to_tensor({"step", "I64", {}, std::vector<std::uint8_t>(8, 0)}),
                         "safetensors: error: tensor 'step' has dtype I64; only F32 and BF16 load as difflab "
                         "tensors, so save it as one of those",
                         difflab::error);
}
