// SPDX-License-Identifier: Apache-2.0
// Philox-4x32-10: Random123 known answers, distributions, and batch/thread independence.
#include <difflab/base/error.h>
#include <difflab/base/threads.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

using namespace difflab;

namespace {

double normal_cdf(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// Kolmogorov-Smirnov statistic sqrt(n) * D of `values` against `cdf`.
template <class Cdf>
double ks_statistic(std::vector<float> values, Cdf cdf) {
    std::sort(values.begin(), values.end());
    const double n = static_cast<double>(values.size());
    double d = 0.0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double f = cdf(static_cast<double>(values[i]));
        d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
    }
    return std::sqrt(n) * d;
}

}  // namespace

TEST_CASE("philox4x32_10 matches Random123's known-answer vectors") {
    using block = std::array<std::uint32_t, 4>;
    CHECK(philox4x32_10({0, 0, 0, 0}, {0, 0}) == block{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    CHECK(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
          block{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    CHECK(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
          block{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("random_purpose is 64-bit FNV-1a") {
    // The published FNV-1a test vectors.
    CHECK(random_purpose("") == 0xcbf29ce484222325ull);
    CHECK(random_purpose("a") == 0xaf63dc4c8601ec8cull);
    CHECK(random_purpose("foobar") == 0x85944171f73967e8ull);
}

TEST_CASE("a stream's first values match an independent Python model of the layout") {
    // Key = splitmix64 chain of (seed, purpose, step); counter = (block, index); see
    // philox.cpp. Values from a pure-Python Philox written from the paper.
    const std::uint64_t noise = random_purpose("noise");
    CHECK(noise == 0x6c092771d20768d1ull);
    philox_stream raw(42, noise, 7);
    const std::vector<std::uint32_t> expected_u32{0x00eebdba, 0xd3e4a141, 0x866fa855,
                                                  0xf576e7c1, 0x6974ebfa, 0x294a6bdc};
    for (const std::uint32_t value : expected_u32) CHECK(raw.next_u32() == value);

    philox_stream uniform_stream(42, noise, 7);
    std::vector<float> u(6);
    uniform_stream.uniform(u.data(), u.size());
    const std::vector<float> expected_u{0.00364285707f, 0.82770735f,  0.525141239f,
                                        0.958845556f,   0.411940277f, 0.161291778f};
    CHECK(u == expected_u);

    philox_stream normal_stream(42, noise, 7);
    std::vector<float> z(6);
    normal_stream.normal(z.data(), z.size());
    const std::vector<float> expected_z{-3.30938745f,  -0.527166843f, -1.04807162f,
                                        -0.821766019f, -1.0888778f,   0.642699063f};
    for (std::size_t i = 0; i < z.size(); ++i) CHECK(z[i] == doctest::Approx(expected_z[i]).epsilon(1e-6));
    CHECK(normal_stream.position() == 12);
}

TEST_CASE("normal draws have N(0,1) moments and pass a Kolmogorov-Smirnov test") {
    const std::size_t n = 100000;
    std::vector<float> z(n);
    philox_stream(2024, random_purpose("test/normal"), 3).normal(z.data(), n);
    double mean = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0;
    for (const float v : z) mean += v;
    mean /= n;
    for (const float v : z) {
        const double d = v - mean;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // Tolerances of about 4.5 standard errors for n = 1e5.
    CHECK(std::abs(mean) < 0.015);
    CHECK(std::abs(m2 - 1.0) < 0.02);
    CHECK(std::abs(m3) < 0.035);                // skewness 0, s.e. sqrt(6/n)
    CHECK(std::abs(m4 - 3.0) < 0.07);           // kurtosis 3, s.e. sqrt(24/n)
    CHECK(ks_statistic(z, normal_cdf) < 1.95);  // 0.1% critical value of sqrt(n) D
}

TEST_CASE("uniform draws lie in 0 <= u < 1 and pass chi-square and Kolmogorov-Smirnov tests") {
    const std::size_t n = 100000;
    std::vector<float> u(n);
    philox_stream(7, random_purpose("test/uniform"), 0).uniform(u.data(), n);
    double mean = 0.0, var = 0.0;
    std::vector<int> bins(100, 0);
    for (const float v : u) {
        REQUIRE(v >= 0.0f);
        REQUIRE(v < 1.0f);
        mean += v;
        ++bins[static_cast<std::size_t>(v * 100.0f)];
    }
    mean /= n;
    for (const float v : u) var += (v - mean) * (v - mean);
    var /= n;
    CHECK(std::abs(mean - 0.5) < 0.0045);
    CHECK(std::abs(var - 1.0 / 12.0) < 0.0013);
    double chi2 = 0.0;
    for (const int count : bins) chi2 += (count - 1000.0) * (count - 1000.0) / 1000.0;
    CHECK(chi2 < 148.2);  // 99 degrees of freedom, 0.1% critical value
    CHECK(ks_statistic(u, [](double x) { return std::clamp(x, 0.0, 1.0); }) < 1.95);
}

TEST_CASE("integer is uniform below its bound and rejects bound 0") {
    philox_stream stream(1, random_purpose("test/integer"), 0);
    std::vector<int> counts(10, 0);
    for (int i = 0; i < 100000; ++i) {
        const std::uint64_t k = stream.integer(10);
        REQUIRE(k < 10);
        ++counts[k];
    }
    double chi2 = 0.0;
    for (const int c : counts) chi2 += (c - 10000.0) * (c - 10000.0) / 10000.0;
    CHECK(chi2 < 27.88);  // 9 degrees of freedom, 0.1% critical value
    // A bound past 32 bits uses 64-bit draws; the high half must be reached.
    const std::uint64_t big = (std::uint64_t{1} << 40) + 12345;
    bool high_half = false;
    for (int i = 0; i < 64; ++i) {
        const std::uint64_t k = stream.integer(big);
        REQUIRE(k < big);
        high_half = high_half || k >= big / 2;
    }
    CHECK(high_half);
    CHECK(stream.integer(1) == 0);
    CHECK_THROWS_WITH_AS(stream.integer(0), "philox_stream::integer: error: bound is 0; pass a positive bound",
                         difflab::error);
}

TEST_CASE("permutation returns each of 0..n-1 once, with all orders equally likely") {
    philox_stream stream(5, random_purpose("test/permutation"), 0);
    for (const std::int64_t n : {0, 1, 2, 17, 1000}) {
        std::vector<std::int64_t> p = stream.permutation(n);
        REQUIRE(static_cast<std::int64_t>(p.size()) == n);
        std::sort(p.begin(), p.end());
        std::vector<std::int64_t> expected(static_cast<std::size_t>(n));
        std::iota(expected.begin(), expected.end(), std::int64_t{0});
        CHECK(p == expected);
    }
    std::map<std::vector<std::int64_t>, int> seen;
    for (int i = 0; i < 6000; ++i) ++seen[stream.permutation(3)];
    REQUIRE(seen.size() == 6);
    double chi2 = 0.0;
    for (const auto& [order, count] : seen) chi2 += (count - 1000.0) * (count - 1000.0) / 1000.0;
    CHECK(chi2 < 20.52);  // 5 degrees of freedom, 0.1% critical value
    CHECK_THROWS_WITH_AS(stream.permutation(-1),
                         "philox_stream::permutation: error: length -1 is negative; pass n >= 0", difflab::error);
}

TEST_CASE("skip jumps exactly, and split normal draws equal one draw") {
    const std::uint64_t purpose = random_purpose("test/skip");
    philox_stream walked(9, purpose, 4);
    for (int i = 0; i < 13; ++i) walked.next_u32();
    philox_stream jumped(9, purpose, 4);
    jumped.skip(13);
    for (int i = 0; i < 9; ++i) CHECK(walked.next_u32() == jumped.next_u32());

    // A jump of 2^40 + 3 draws lands inside block 2^38.
    philox_stream far(9, purpose, 4);
    far.skip((std::uint64_t{1} << 40) + 3);
    philox_stream near(9, purpose, 4);
    near.skip(std::uint64_t{1} << 40);
    for (int i = 0; i < 3; ++i) near.next_u32();
    CHECK(far.next_u32() == near.next_u32());
    CHECK(far.position() == (std::uint64_t{1} << 40) + 4);

    std::vector<float> whole(9), parts(9);
    philox_stream(9, purpose, 4).normal(whole.data(), 9);
    philox_stream split(9, purpose, 4);
    split.normal(parts.data(), 3);
    split.normal(parts.data() + 3, 1);
    split.normal(parts.data() + 4, 5);
    CHECK(whole == parts);
}

TEST_CASE("different seeds, purposes, indices and steps give different streams") {
    const std::uint64_t noise = random_purpose("noise");
    const auto first = [](philox_stream s) { return s.next_u64(); };
    const std::uint64_t base = first(philox_stream(1, noise, 0));
    CHECK(first(philox_stream(2, noise, 0)) != base);
    CHECK(first(philox_stream(1, random_purpose("dropout"), 0)) != base);
    CHECK(first(philox_stream(1, noise, 1)) != base);
    CHECK(first(philox_stream(1, noise, 0, 1)) != base);
    CHECK(first(philox_stream(1, noise, 0, 0)) == base);
}

TEST_CASE("rows do not depend on batch size or thread count") {
    const std::uint64_t noise = random_purpose("noise");
    const std::int64_t rows = 64, row_size = 3 * 5 * 5 + 1;  // odd row size
    std::vector<float> batch(rows * row_size), single(rows * row_size);
    fill_normal(batch.data(), rows, row_size, 11, noise, 100);
    for (std::int64_t r = 0; r < rows; ++r) fill_normal(single.data() + r * row_size, 1, row_size, 11, noise, 100 + r);
    CHECK(batch == single);
    // Samples 100..163 drawn as the second half of a batch starting at 36.
    std::vector<float> wide(128 * row_size);
    fill_normal(wide.data(), 128, row_size, 11, noise, 36);
    CHECK(std::equal(batch.begin(), batch.end(), wide.begin() + 64 * row_size));

    const int threads = thread_count();
    std::vector<float> uniform_one(rows * row_size), uniform_three(rows * row_size), normal_three(rows * row_size);
    set_thread_count(1);
    fill_uniform(uniform_one.data(), rows, row_size, 11, noise, 100);
    set_thread_count(3);
    fill_uniform(uniform_three.data(), rows, row_size, 11, noise, 100);
    fill_normal(normal_three.data(), rows, row_size, 11, noise, 100);
    set_thread_count(threads);
    CHECK(uniform_one == uniform_three);
    CHECK(normal_three == batch);
}

TEST_CASE("one large row split across threads equals one sequential stream") {
    // 2.5 chunks of 16384 values; the odd count ends on a cosine value.
    const std::int64_t n = 40961;
    const std::uint64_t purpose = random_purpose("test/large");
    std::vector<float> sequential_z(n), sequential_u(n), z(n), u(n);
    philox_stream(3, purpose, 8).normal(sequential_z.data(), n);
    philox_stream(3, purpose, 8).uniform(sequential_u.data(), n);
    const int threads = thread_count();
    for (const int t : {1, 2, 3}) {
        CAPTURE(t);
        set_thread_count(t);
        fill_normal(z.data(), 1, n, 3, purpose, 8);
        fill_uniform(u.data(), 1, n, 3, purpose, 8);
        CHECK(z == sequential_z);
        CHECK(u == sequential_u);
    }
    set_thread_count(threads);
}
