// SPDX-License-Identifier: Apache-2.0
// The engine's vectorized loops (vector clones) against per-element references and against
// their strided paths, on sizes that leave a remainder after any vector width.
#include <difflab/tensor/module.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <string>

#include "ops_testing.h"

using namespace difflab;
using difflab::testing::sample;

namespace {

const std::int64_t sizes[] = {1, 7, 17, 1000};

/// `values` in `type` as a strided view: column 0 of an [n, 2] tensor, so it steps by 2.
tensor strided_copy_of(const std::vector<float>& values, dtype type) {
    const std::int64_t n = static_cast<std::int64_t>(values.size());
    std::vector<float> wide(values.size() * 2, 99.0f);
    for (std::size_t i = 0; i < values.size(); ++i) wide[2 * i] = values[i];
    tensor view = tensor::from_vector({n, 2}, wide).to(type).slice(1, 0, 1).reshape({n});
    REQUIRE((n == 1 || view.strides() == shape_t{2}));
    return view;
}

std::uint32_t bits_of(float v) {
    std::uint32_t u = 0;
    std::memcpy(&u, &v, sizeof u);
    return u;
}

std::uint16_t bf16_bits(const tensor& t, std::int64_t i) {
    return t.data<bf16>()[i].bits;
}

/// Values where rounding to bf16 is delicate: ties both ways, NaN, infinities, signed zero.
std::vector<float> awkward(std::int64_t n, int salt) {
    std::vector<float> v = sample({n}, -3, 3, salt).to_vector();
    const float special[] = {std::numeric_limits<float>::quiet_NaN(),
                             std::numeric_limits<float>::infinity(),
                             -0.0f,
                             1.0f + 1.0f / 256,  // tie, rounds down to even
                             1.0f + 3.0f / 256,  // tie, rounds up to even
                             -std::numeric_limits<float>::infinity(),
                             3.0e38f};
    for (std::size_t i = 0; i < v.size() && i < std::size(special); ++i) v[i] = special[i];
    return v;
}

template <class Op>
void check_binary(const char* name, Op op, dtype type, std::int64_t n) {
    const std::string what = std::string(name) + " " + dtype_name(type) + " n=" + std::to_string(n);
    INFO(what);
    const std::vector<float> x = sample({n}, -2, 2, 1).to_vector(), y = sample({n}, 0.5f, 2, 2).to_vector();
    const tensor dense_x = tensor::from_vector({n}, x).to(type), dense_y = tensor::from_vector({n}, y).to(type);
    const tensor strided_x = strided_copy_of(x, type), strided_y = strided_copy_of(y, type);
    const std::vector<float> xr = dense_x.to_vector(), yr = dense_y.to_vector();  // as stored
    auto rounded = [&](float v) { return type == dtype::f32 ? v : bf16::to_float(bf16::from_float(v)); };
    const std::vector<float> dense = op(dense_x, dense_y).to_vector();
    const std::vector<float> strided = op(strided_x, strided_y).to_vector();
    const tensor scalar_y = tensor::from_vector({1}, {yr[0]}).to(type);
    const std::vector<float> broadcast = op(dense_x, scalar_y).to_vector();
    const std::vector<float> broadcast_left = op(scalar_y, dense_x).to_vector();
    for (std::int64_t i = 0; i < n; ++i) {
        const std::size_t k = static_cast<std::size_t>(i);
        const float want = rounded(op(tensor::from_vector({1}, {xr[k]}), tensor::from_vector({1}, {yr[k]})).item());
        CHECK(bits_of(dense[k]) == bits_of(want));
        CHECK(bits_of(strided[k]) == bits_of(want));
        const float against_scalar = op(tensor::from_vector({1}, {xr[k]}), tensor::from_vector({1}, {yr[0]})).item();
        CHECK(bits_of(broadcast[k]) == bits_of(rounded(against_scalar)));
        const float scalar_first = op(tensor::from_vector({1}, {yr[0]}), tensor::from_vector({1}, {xr[k]})).item();
        CHECK(bits_of(broadcast_left[k]) == bits_of(rounded(scalar_first)));
    }
}

}  // namespace

TEST_CASE("binary ops: dense, broadcast and strided rows agree with one element at a time") {
    // One-element tensors take the strided loop's single iteration: the per-element reference.
    for (std::int64_t n : sizes)
        for (dtype type : {dtype::f32, dtype::bf16}) {
            check_binary(
                "add", [](const tensor& a, const tensor& b) { return add(a, b); }, type, n);
            check_binary(
                "sub", [](const tensor& a, const tensor& b) { return sub(a, b); }, type, n);
            check_binary(
                "mul", [](const tensor& a, const tensor& b) { return mul(a, b); }, type, n);
            check_binary(
                "div", [](const tensor& a, const tensor& b) { return div(a, b); }, type, n);
        }
}

TEST_CASE("f32 to bf16 and back: dense and strided rows round to nearest even") {
    for (std::int64_t n : sizes) {
        INFO("n=" << n);
        const std::vector<float> v = awkward(n, 3);
        const tensor dense = tensor::from_vector({n}, v).to(dtype::bf16);
        const tensor strided = strided_copy_of(v, dtype::f32).to(dtype::bf16);
        const std::vector<float> back = dense.to(dtype::f32).to_vector();
        for (std::int64_t i = 0; i < n; ++i) {
            const std::uint16_t want = bf16::from_float(v[static_cast<std::size_t>(i)]);
            CHECK(bf16_bits(dense, i) == want);
            CHECK(bf16_bits(strided, i) == want);
            CHECK(bits_of(back[static_cast<std::size_t>(i)]) == bits_of(bf16::to_float(want)));
        }
        // bf16 -> f32 from a strided source: the bf16 column of an [n, 2] bf16 tensor.
        const tensor wide =
            tensor::from_vector({n, 2}, std::vector<float>(static_cast<std::size_t>(2 * n), 5.0f)).to(dtype::bf16);
        wide.slice(1, 0, 1).reshape({n}).copy_(dense);
        const std::vector<float> from_strided = wide.slice(1, 0, 1).reshape({n}).to(dtype::f32).to_vector();
        for (std::int64_t i = 0; i < n; ++i)
            CHECK(bits_of(from_strided[static_cast<std::size_t>(i)]) == bits_of(back[static_cast<std::size_t>(i)]));
    }
}

namespace {

struct one_param : module {
    tensor w;
    explicit one_param(const tensor& value) { w = register_parameter("w", value); }
};

}  // namespace

TEST_CASE("AdamW and EMA over several parallel chunks match a per-element loop") {
    // 40001 values: two full 16384-value chunks and a ragged one, in parallel.
    const std::int64_t n = 40001;
    const std::vector<float> start = sample({n}, -1, 1, 4).to_vector(), grad = sample({n}, -1, 1, 5).to_vector();
    one_param model(tensor::from_vector({n}, start));
    optim::adam_options options;
    options.lr = 1e-2f;
    options.weight_decay = 0.1f;
    optim::adamw adam(model.parameters(), options);
    optim::ema average(model, 0.9f);
    std::vector<float> p = start, m(start.size(), 0.0f), v(start.size(), 0.0f), shadow = start;
    for (int step = 1; step <= 2; ++step) {
        model.w.set_grad(tensor::from_vector({n}, grad));
        adam.step();
        average.update(model);
        const float bias1 = static_cast<float>(1 - std::pow(0.9, step));
        const float bias2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(0.999, step)));
        const float decay =
            static_cast<float>(1.0 - static_cast<double>(options.lr) * static_cast<double>(options.weight_decay));
        for (std::size_t e = 0; e < p.size(); ++e) {
            p[e] *= decay;
            m[e] = m[e] + (1 - 0.9f) * (grad[e] - m[e]);
            v[e] = v[e] * 0.999f + (1 - 0.999f) * (grad[e] * grad[e]);
            p[e] -= options.lr / bias1 * (m[e] / (std::sqrt(v[e]) / bias2_sqrt + options.eps));
            shadow[e] = 0.9f * shadow[e] + (1 - 0.9f) * p[e];
        }
    }
    const std::vector<float> got = model.w.to_vector(), got_shadow = average.state_dict().at("w").to_vector();
    for (std::size_t e = 0; e < p.size(); ++e) {
        INFO("element " << e);
        CHECK(got[e] == doctest::Approx(p[e]).epsilon(1e-6));
        CHECK(got_shadow[e] == doctest::Approx(shadow[e]).epsilon(1e-6));
    }
}
