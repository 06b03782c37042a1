// SPDX-License-Identifier: Apache-2.0
// ops.h: values against closed forms, finite-difference gradients (broadcasting, strided
// views, batch 1), determinism.
#include <difflab/base/error.h>
#include <difflab/base/threads.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <functional>

#include "gradcheck.h"
#include "ops_testing.h"

using namespace difflab;
using difflab::testing::away_from_zero;
using difflab::testing::gradcheck;
using difflab::testing::sample;

namespace {

using unary_fn = std::function<tensor(const tensor&)>;

bool close(double got, double want, double atol, double rtol) {
    return std::fabs(got - want) <= atol + rtol * std::fabs(want);
}

void check_unary(const char* name, const unary_fn& op, const std::function<double(double)>& reference,
                 const tensor& input) {
    INFO(name);
    const std::vector<float> x = input.to_vector();
    const std::vector<float> y = op(input).to_vector();
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == doctest::Approx(reference(x[i])).epsilon(1e-5));
    // Contiguous, a transposed (strided) view, and batch 1.
    auto r = gradcheck([&](const std::vector<tensor>& in) { return op(in[0]); }, {input});
    CHECK_MESSAGE(r.ok, r.report);
    auto rt = gradcheck([&](const std::vector<tensor>& in) { return op(in[0]); }, {input.transpose(0, 1)});
    CHECK_MESSAGE(rt.ok, rt.report);
    auto r1 = gradcheck([&](const std::vector<tensor>& in) { return op(in[0]); }, {input.slice(0, 0, 1)});
    CHECK_MESSAGE(r1.ok, r1.report);
}

}  // namespace

TEST_CASE("unary functions match closed forms and their gradients") {
    const tensor any = sample({3, 4}, -2.0f, 2.0f);
    const tensor positive = sample({3, 4}, 0.5f, 3.0f);
    const tensor kinked = away_from_zero({3, 4}, 0.05f, 2.0f);
    check_unary(
        "exp", [](const tensor& t) { return exp(t); }, [](double v) { return std::exp(v); }, any);
    check_unary(
        "log", [](const tensor& t) { return log(t); }, [](double v) { return std::log(v); }, positive);
    check_unary(
        "sqrt", [](const tensor& t) { return sqrt(t); }, [](double v) { return std::sqrt(v); }, positive);
    check_unary(
        "pow", [](const tensor& t) { return pow(t, 2.5f); }, [](double v) { return std::pow(v, 2.5); }, positive);
    check_unary(
        "abs", [](const tensor& t) { return abs(t); }, [](double v) { return std::fabs(v); }, kinked);
    check_unary(
        "clamp", [](const tensor& t) { return clamp(t, -0.5f, 0.7f); },
        [](double v) { return std::min(std::max(v, -0.5), 0.7); }, sample({3, 4}, -1.0f, 1.0f, 3));
    check_unary(
        "relu", [](const tensor& t) { return relu(t); }, [](double v) { return v > 0 ? v : 0.0; }, kinked);
    check_unary(
        "silu", [](const tensor& t) { return silu(t); }, [](double v) { return v / (1 + std::exp(-v)); }, any);
    check_unary(
        "gelu", [](const tensor& t) { return gelu(t); },
        [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }, any);
    check_unary(
        "sigmoid", [](const tensor& t) { return sigmoid(t); }, [](double v) { return 1 / (1 + std::exp(-v)); }, any);
    check_unary(
        "tanh", [](const tensor& t) { return tanh(t); }, [](double v) { return std::tanh(v); }, any);
    check_unary(
        "neg", [](const tensor& t) { return -t; }, [](double v) { return -v; }, any);
    check_unary(
        "add scalar", [](const tensor& t) { return t + 1.5f; }, [](double v) { return v + 1.5; }, any);
    check_unary(
        "mul scalar", [](const tensor& t) { return 3.0f * t; }, [](double v) { return 3 * v; }, any);
    check_unary(
        "div scalar", [](const tensor& t) { return t / 4.0f; }, [](double v) { return v / 4; }, any);
}

TEST_CASE("binary arithmetic broadcasts like NumPy") {
    tensor a = tensor::from_vector({2, 1, 3}, {1, 2, 3, 4, 5, 6});
    tensor b = tensor::from_vector({2, 1}, {10, 20});
    tensor c = add(a, b);
    CHECK(c.shape() == shape_t{2, 2, 3});
    CHECK(c.to_vector() == std::vector<float>{11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26});
    CHECK((a - b).to_vector()[5] == -17.0f);
    CHECK((a * b).to_vector()[3] == 20.0f);
    CHECK((b / a).to_vector()[1] == 5.0f);
    CHECK_THROWS_WITH_AS(add(a, tensor::zeros({4})),
                         "error: add: shapes [2, 1, 3] and [4] do not broadcast (dimension 2: 3 vs 4)", error);
    // A channels-last operand keeps the result channels-last.
    tensor x = sample({2, 3, 4, 5}).to_channels_last();
    tensor bias = sample({1, 3, 1, 1});
    CHECK(add(x, bias).is_channels_last());
    CHECK(add(x, bias).to_vector() == add(x.contiguous(), bias).to_vector());
}

TEST_CASE("binary gradients reduce over broadcast dims") {
    using fn = std::function<tensor(const tensor&, const tensor&)>;
    const std::vector<std::pair<const char*, fn>> ops = {
        {"add", [](const tensor& a, const tensor& b) { return a + b; }},
        {"sub", [](const tensor& a, const tensor& b) { return a - b; }},
        {"mul", [](const tensor& a, const tensor& b) { return a * b; }},
        {"div", [](const tensor& a, const tensor& b) { return a / b; }},
    };
    for (const auto& [name, op] : ops) {
        INFO(name);
        auto f = [op = op](const std::vector<tensor>& in) { return op(in[0], in[1]); };
        // Same shape; broadcasting on both sides; a strided (transposed) operand; batch 1.
        auto r = gradcheck(f, {sample({2, 3}), sample({2, 3}, 0.5f, 2.0f, 1)});
        CHECK_MESSAGE(r.ok, r.report);
        auto rb = gradcheck(f, {sample({2, 1, 3}), sample({4, 1}, 0.5f, 2.0f, 1)});
        CHECK_MESSAGE(rb.ok, rb.report);
        auto rs = gradcheck(f, {sample({3, 2}).transpose(0, 1), sample({3}, 0.5f, 2.0f, 2)});
        CHECK_MESSAGE(rs.ok, rs.report);
        auto r1 = gradcheck(f, {sample({1, 3, 2, 2}), sample({1, 3, 1, 1}, 0.5f, 2.0f, 3)});
        CHECK_MESSAGE(r1.ok, r1.report);
    }
    // The same tensor on both sides sums both paths: d(x*x)/dx = 2x.
    tensor x = tensor::from_vector({2}, {3, -1}).set_requires_grad();
    sum(x * x).backward();
    CHECK(x.grad().to_vector() == std::vector<float>{6, -2});
}

TEST_CASE("sum and mean over dimensions") {
    tensor x = tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(sum(x).item() == 21.0f);
    CHECK(sum(x).dim() == 0);
    CHECK(sum(x, {0}).to_vector() == std::vector<float>{5, 7, 9});
    CHECK(sum(x, {-1}, true).shape() == shape_t{2, 1});
    CHECK(sum(x, {-1}, true).to_vector() == std::vector<float>{6, 15});
    CHECK(mean(x, {1}).to_vector() == std::vector<float>{2, 5});
    CHECK(mean(x).item() == 3.5f);
    CHECK(sum(x.transpose(0, 1), {1}).to_vector() == std::vector<float>{5, 7, 9});
    CHECK_THROWS_AS(sum(x, {2}), error);
    CHECK_THROWS_AS(sum(x, {0, -2}), error);
    auto f = [](const std::vector<tensor>& in) { return sum(in[0], {0, 2}, true); };
    auto r = gradcheck(f, {sample({2, 3, 4})});
    CHECK_MESSAGE(r.ok, r.report);
    auto g = [](const std::vector<tensor>& in) { return mean(in[0], {1}); };
    auto rm = gradcheck(g, {sample({4, 3, 2}).permute({2, 0, 1})});
    CHECK_MESSAGE(rm.ok, rm.report);
    auto h = [](const std::vector<tensor>& in) { return mean(in[0]); };
    auto ra = gradcheck(h, {sample({1, 5})});
    CHECK_MESSAGE(ra.ok, ra.report);
}

TEST_CASE("concat and split are inverses with gradients") {
    tensor a = tensor::from_vector({2, 1}, {1, 2});
    tensor b = tensor::from_vector({2, 2}, {3, 4, 5, 6});
    tensor c = concat({a, b}, 1);
    CHECK(c.to_vector() == std::vector<float>{1, 3, 4, 2, 5, 6});
    auto parts = split(c, {1, 2}, -1);
    CHECK(parts[0].to_vector() == a.to_vector());
    CHECK(parts[1].to_vector() == b.to_vector());
    CHECK(parts[1].shares_storage_with(c));
    CHECK_THROWS_AS(split(c, {1, 1}, 1), error);
    CHECK_THROWS_AS(concat({a, tensor::zeros({3, 2})}, 1), error);
    auto f = [](const std::vector<tensor>& in) { return concat({in[0], in[1], in[0]}, 1); };
    auto r = gradcheck(f, {sample({2, 2, 3}), sample({2, 1, 3}, -1, 1, 1)});
    CHECK_MESSAGE(r.ok, r.report);
    auto s = [](const std::vector<tensor>& in) {
        auto p = split(in[0], {2, 1}, 0);
        return p[0] * 2.0f + sum(p[1]);
    };
    auto rs = gradcheck(s, {sample({3, 2})});
    CHECK_MESSAGE(rs.ok, rs.report);
    // Channels-last parts joined along C stay channels-last.
    tensor x = sample({1, 2, 3, 3}).to_channels_last();
    tensor y = sample({1, 4, 3, 3}, -1, 1, 1).to_channels_last();
    tensor xy = concat({x, y}, 1);
    CHECK(xy.is_channels_last());
    CHECK(xy.to_vector() == concat({x.contiguous(), y.contiguous()}, 1).to_vector());
}

TEST_CASE("dropout is reproducible, scaled, and independent of the batch split") {
    tensor x = tensor::ones({64, 256});
    tensor a = dropout(x, 0.25f, true, 42, 0);
    tensor b = dropout(x, 0.25f, true, 42, 0);
    CHECK(a.to_vector() == b.to_vector());
    const std::vector<float> v = a.to_vector();
    std::int64_t kept = 0;
    for (float value : v) {
        CHECK((value == 0.0f || value == doctest::Approx(1.0f / 0.75f)));
        kept += value != 0.0f;
    }
    // 16384 Bernoulli(0.75) draws: mean 12288, standard deviation about 55.
    CHECK(std::abs(kept - 12288) < 400);
    // Rows 10..11 drawn alone (index 10) equal rows 10..11 of the batch.
    tensor part = dropout(tensor::ones({2, 256}), 0.25f, true, 42, 10);
    CHECK(part.to_vector() == a.slice(0, 10, 12).to_vector());
    CHECK(dropout(x, 0.25f, false, 42, 0).shares_storage_with(x));
    CHECK(dropout(x, 0.25f, true, 43, 0).to_vector() != v);
    auto f = [](const std::vector<tensor>& in) { return dropout(in[0], 0.5f, true, 7, 3); };
    auto r = gradcheck(f, {sample({4, 5})});
    CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("embedding looks rows up and scatters gradients back") {
    tensor table = tensor::from_vector({3, 2}, {0, 1, 10, 11, 20, 21});
    tensor ids = tensor::from_vector({2, 2}, {2, 0, 2, 1});
    tensor out = embedding(table, ids);
    CHECK(out.shape() == shape_t{2, 2, 2});
    CHECK(out.to_vector() == std::vector<float>{20, 21, 0, 1, 20, 21, 10, 11});
    CHECK_THROWS_WITH_AS(embedding(table, tensor::from_vector({1}, {3})),
                         "error: embedding: id 3 at position 0 is not a whole number in [0, 3)", error);
    auto f = [ids](const std::vector<tensor>& in) { return embedding(in[0], ids); };
    auto r = gradcheck(f, {sample({3, 2})});
    CHECK_MESSAGE(r.ok, r.report);
}

TEST_CASE("losses match closed forms and their gradients") {
    tensor p = tensor::from_vector({2, 2}, {1, 2, 3, 4});
    tensor t = tensor::from_vector({2, 2}, {1, 0, 5, 4});
    CHECK(mse_loss(p, t).item() == doctest::Approx((0 + 4 + 4 + 0) / 4.0));
    CHECK(l1_loss(p, t).item() == doctest::Approx((0 + 2 + 2 + 0) / 4.0));

    // Cross-entropy of logits [0, ln 3] with label 1: -log(3/4).
    tensor logits = tensor::from_vector({2, 2}, {0, std::log(3.0f), 5, 5});
    tensor labels = tensor::from_vector({2}, {1, 0});
    CHECK(cross_entropy(logits, labels).item() == doctest::Approx((-std::log(0.75) + std::log(2.0)) / 2));
    CHECK_THROWS_AS(cross_entropy(logits, tensor::from_vector({2}, {1, 2})), error);
    // BCE with logits: x = 0 gives log 2 whatever the target; large |x| stays finite.
    tensor x = tensor::from_vector({3}, {0, 100, -100});
    tensor y = tensor::from_vector({3}, {0.3f, 1, 1});
    CHECK(binary_cross_entropy_with_logits(x, y).item() == doctest::Approx((std::log(2.0) + 0 + 100) / 3));

    auto mse = [](const std::vector<tensor>& in) { return mse_loss(in[0], in[1]); };
    auto r1 = gradcheck(mse, {sample({3, 4}), sample({3, 4}, -1, 1, 1)});
    CHECK_MESSAGE(r1.ok, r1.report);
    auto l1 = [](const std::vector<tensor>& in) { return l1_loss(in[0], in[1]); };
    auto r2 = gradcheck(l1, {away_from_zero({3, 4}, 0.1f), tensor::zeros({3, 4})});
    CHECK_MESSAGE(r2.ok, r2.report);
    auto ce = [](const std::vector<tensor>& in) { return cross_entropy(in[0], tensor::from_vector({3}, {0, 3, 1})); };
    auto r3 = gradcheck(ce, {sample({3, 4}, -2, 2)});
    CHECK_MESSAGE(r3.ok, r3.report);
    auto r3t = gradcheck(ce, {sample({4, 3}, -2, 2).transpose(0, 1)});
    CHECK_MESSAGE(r3t.ok, r3t.report);
    auto bce = [](const std::vector<tensor>& in) { return binary_cross_entropy_with_logits(in[0], in[1]); };
    auto r4 = gradcheck(bce, {sample({2, 3}, -3, 3), sample({2, 3}, 0, 1, 1)});
    CHECK_MESSAGE(r4.ok, r4.report);
}

TEST_CASE("the same computation twice is bitwise equal") {
    auto run = [] {
        tensor x = sample({8, 16, 9, 9}, -1, 1).to_channels_last().set_requires_grad();
        tensor w = sample({1, 16, 1, 1}, 0.5f, 1.5f, 1).set_requires_grad();
        tensor y = mean(silu(x * w + 0.5f), {2, 3});
        tensor loss = mse_loss(y, tensor::zeros({8, 16})) + sum(exp(w));
        loss.backward();
        std::vector<float> out = loss.to_vector();
        for (const tensor& t : {x.grad(), w.grad()})
            for (float v : t.to_vector()) out.push_back(v);
        return out;
    };
    const std::vector<float> first = run();
    const std::vector<float> second = run();
    CHECK(first == second);
}

TEST_CASE("large and channels-last tensors take the oneDNN path with the same math") {
    // 2*8*12*12 = 2304 elements: above the size where small tensors use plain loops.
    const tensor base = sample({2, 8, 12, 12}, -2.0f, 2.0f);
    const tensor positive = sample({2, 8, 12, 12}, 0.5f, 3.0f, 1);
    struct unary_case {
        const char* name;
        std::function<tensor(const tensor&)> op;
        std::function<double(double)> value;
        std::function<double(double)> derivative;
        bool positive_only;
    };
    const double pi = 3.14159265358979323846;
    const std::vector<unary_case> cases = {
        {"exp", [](const tensor& t) { return exp(t); }, [](double v) { return std::exp(v); },
         [](double v) { return std::exp(v); }, false},
        {"log", [](const tensor& t) { return log(t); }, [](double v) { return std::log(v); },
         [](double v) { return 1 / v; }, true},
        {"sqrt", [](const tensor& t) { return sqrt(t); }, [](double v) { return std::sqrt(v); },
         [](double v) { return 0.5 / std::sqrt(v); }, true},
        {"pow", [](const tensor& t) { return pow(t, 3.0f); }, [](double v) { return v * v * v; },
         [](double v) { return 3 * v * v; }, false},
        {"silu", [](const tensor& t) { return silu(t); }, [](double v) { return v / (1 + std::exp(-v)); },
         [](double v) {
             const double s = 1 / (1 + std::exp(-v));
             return s + v * s * (1 - s);
         },
         false},
        {"gelu", [](const tensor& t) { return gelu(t); },
         [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); },
         [pi](double v) {
             return 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-v * v / 2) / std::sqrt(2 * pi);
         },
         false},
        {"sigmoid", [](const tensor& t) { return sigmoid(t); }, [](double v) { return 1 / (1 + std::exp(-v)); },
         [](double v) { return std::exp(-v) / ((1 + std::exp(-v)) * (1 + std::exp(-v))); }, false},
        {"tanh", [](const tensor& t) { return tanh(t); }, [](double v) { return std::tanh(v); },
         [](double v) { return 1 - std::tanh(v) * std::tanh(v); }, false},
        {"relu", [](const tensor& t) { return relu(t); }, [](double v) { return v > 0 ? v : 0; },
         [](double v) { return v > 0 ? 1 : 0; }, false},
        {"affine", [](const tensor& t) { return t * 2.0f + 1.0f; }, [](double v) { return 2 * v + 1; },
         [](double) { return 2.0; }, false},
    };
    // Values within 5e-6 absolute: oneDNN's vectorized log is that far off near x = 1.
    for (const unary_case& c : cases) {
        for (bool channels_last : {false, true}) {
            const tensor input = c.positive_only ? positive : base;
            tensor x = (channels_last ? input.to_channels_last() : input.clone()).set_requires_grad();
            tensor y = c.op(x);
            CHECK(y.is_channels_last() == channels_last);
            sum(y).backward();
            const std::vector<float> xs = input.to_vector(), ys = y.to_vector(), gs = x.grad().to_vector();
            for (std::size_t i = 0; i < xs.size(); i += 7) {
                CHECK_MESSAGE(close(ys[i], c.value(xs[i]), 5e-6, 1e-5),
                              fmt::format("{} value at {}: {} vs {}", c.name, xs[i], ys[i], c.value(xs[i])));
                CHECK_MESSAGE(close(gs[i], c.derivative(xs[i]), 1e-6, 1e-5),
                              fmt::format("{} derivative at {}: {} vs {}", c.name, xs[i], gs[i], c.derivative(xs[i])));
            }
        }
    }
    // Reductions over large strided tensors agree with the double-precision loop.
    tensor big = sample({4, 6, 20, 20}, -1, 1, 2).to_channels_last();
    const std::vector<float> sums = sum(big, {1, 2, 3}).to_vector();
    const std::vector<float> v = big.to_vector();
    for (std::size_t n = 0; n < 4; ++n) {
        double total = 0;
        for (std::size_t i = 0; i < 2400; ++i) total += v[n * 2400 + i];
        CHECK(close(sums[n], total, 1e-5, 1e-5));
    }
    CHECK(mean(big).item() == doctest::Approx(mean(big.contiguous()).item()).epsilon(1e-6));
}

TEST_CASE("sums over any dims of large strided tensors match a double-precision loop") {
    // 5940 elements: above the serial path; a permuted view and a channels-last copy.
    const tensor base = sample({6, 11, 9, 10}, -1, 1, 4);
    const std::vector<tensor> inputs = {base.permute({0, 3, 2, 1}).contiguous(), base.permute({0, 3, 2, 1}),
                                        base.permute({0, 3, 2, 1}).to_channels_last()};
    const shape_t shape = {6, 10, 9, 11};
    const std::vector<std::vector<std::int64_t>> dim_sets = {{}, {0}, {2}, {1, 3}, {0, 2, 3}, {3}};
    for (const tensor& x : inputs) {
        const std::vector<float> v = x.to_vector();
        for (const auto& dims : dim_sets) {
            std::vector<bool> reduced(4, dims.empty());
            for (std::int64_t d : dims) reduced[static_cast<std::size_t>(d)] = true;
            shape_t keep = shape;
            for (std::size_t d = 0; d < 4; ++d)
                if (reduced[d]) keep[d] = 1;
            std::vector<double> want(static_cast<std::size_t>(shape_numel(keep)), 0.0);
            std::size_t e = 0;
            for (std::int64_t i0 = 0; i0 < 6; ++i0)
                for (std::int64_t i1 = 0; i1 < 10; ++i1)
                    for (std::int64_t i2 = 0; i2 < 9; ++i2)
                        for (std::int64_t i3 = 0; i3 < 11; ++i3, ++e) {
                            const std::int64_t idx[4] = {i0, i1, i2, i3};
                            std::int64_t o = 0;
                            for (std::size_t d = 0; d < 4; ++d) o = o * keep[d] + (reduced[d] ? 0 : idx[d]);
                            want[static_cast<std::size_t>(o)] += v[e];
                        }
            const std::vector<float> got = sum(x, dims, true).to_vector();
            REQUIRE(got.size() == want.size());
            for (std::size_t i = 0; i < got.size(); ++i)
                CHECK_MESSAGE(close(got[i], want[i], 1e-4, 1e-5), fmt::format("dims {} entry {}", shape_text(dims), i));
        }
    }
}

TEST_CASE("pointwise ops and sums do not depend on the thread count") {
    auto run = [] {
        tensor x = sample({16, 32, 12, 12}, -1, 1, 5).to_channels_last().set_requires_grad();
        tensor b = sample({1, 32, 1, 1}, -1, 1, 6).set_requires_grad();
        tensor loss = mean(gelu(x + b) * x) + sum(sum(x, {0, 2, 3}) * b);
        loss.backward();
        std::vector<float> out = loss.to_vector();
        for (const tensor& g : {x.grad(), b.grad()})
            for (float v : g.to_vector()) out.push_back(v);
        return out;
    };
    const int threads = thread_count();
    set_thread_count(1);
    const std::vector<float> one = run();
    set_thread_count(2);
    const std::vector<float> two = run();
    set_thread_count(threads);
    CHECK(one == two);
}

TEST_CASE("bf16 tensors run the same ops and send f32 gradients to f32 leaves") {
    // 3072 elements: oneDNN's bf16 eltwise kernels on this CPU, plain loops for arithmetic.
    tensor x = sample({4, 8, 96}, -2, 2, 7).set_requires_grad();
    tensor h = x.to(dtype::bf16);
    tensor y = silu(h) * h + 1.0f;
    CHECK(y.type() == dtype::bf16);
    tensor loss = mean(y.to(dtype::f32));
    loss.backward();
    CHECK(x.grad().type() == dtype::f32);
    const std::vector<float> xs = x.to_vector(), ys = y.to_vector(), gs = x.grad().to_vector();
    for (std::size_t i = 0; i < xs.size(); i += 11) {
        const double v = xs[i], s = 1 / (1 + std::exp(-v));
        CHECK(close(ys[i], v * v * s + 1, 0.05, 0.02));
        // d/dv (v^2 s) = 2 v s + v^2 s (1 - s), divided by the count of the mean.
        CHECK(close(gs[i], (2 * v * s + v * v * s * (1 - s)) / 3072.0, 2e-5, 0.03));
    }
}

TEST_CASE("double scalars round to float once, as static_cast<float> does") {
    const tensor x = tensor::from_vector({3}, {1.0f, -3.0f, 0.7f});
    const double c = 0.1 + 1e-12;  // not a float: the rounding is visible in the last bit
    CHECK((x * c).to_vector() == (x * static_cast<float>(c)).to_vector());
    CHECK((c * x).to_vector() == (static_cast<float>(c) * x).to_vector());
    CHECK((x / c).to_vector() == (x / static_cast<float>(c)).to_vector());
    CHECK((x + c).to_vector() == (x + static_cast<float>(c)).to_vector());
    CHECK((x - c).to_vector() == (x - static_cast<float>(c)).to_vector());
    CHECK((x * 2).to_vector() == std::vector<float>{2.0f, -6.0f, 1.4f});  // integers still take the float overloads
    CHECK((x / c).to_vector()[0] == 1.0f * (1.0f / static_cast<float>(c)));
}
