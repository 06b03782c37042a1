// SPDX-License-Identifier: Apache-2.0
// Philox-4x32-10 streams keyed by (seed, purpose, index, step) and their distributions.
#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace difflab {
namespace {

// Multipliers and Weyl key increments from Salmon et al. (SC'11), table 2 / Random123.
constexpr std::uint32_t philox_m0 = 0xD2511F53u;
constexpr std::uint32_t philox_m1 = 0xCD9E8D57u;
constexpr std::uint32_t philox_w0 = 0x9E3779B9u;
constexpr std::uint32_t philox_w1 = 0xBB67AE85u;

// SplitMix64's finalizer: a bijection with full avalanche, so distinct (seed, purpose, step)
// give unrelated Philox keys even when they differ in one bit.
std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

std::uint64_t random_purpose(std::string_view name) {
    std::uint64_t hash = 0xCBF29CE484222325ull;
    for (const char c : name) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001B3ull;
    }
    return hash;
}

std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key) {
    for (int round = 0; round < 10; ++round) {
        const std::uint64_t p0 = std::uint64_t{philox_m0} * counter[0];
        const std::uint64_t p1 = std::uint64_t{philox_m1} * counter[2];
        counter = {static_cast<std::uint32_t>(p1 >> 32) ^ counter[1] ^ key[0], static_cast<std::uint32_t>(p1),
                   static_cast<std::uint32_t>(p0 >> 32) ^ counter[3] ^ key[1], static_cast<std::uint32_t>(p0)};
        key[0] += philox_w0;
        key[1] += philox_w1;
    }
    return counter;
}

philox_stream::philox_stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t index, std::uint64_t step)
    : index_(index) {
    const std::uint64_t key = mix64(mix64(mix64(seed) ^ purpose) ^ step);
    key_ = {static_cast<std::uint32_t>(key), static_cast<std::uint32_t>(key >> 32)};
}

const std::array<std::uint32_t, 4>& philox_stream::block(std::uint64_t block_index) {
    if (block_index != cached_block_) {
        cached_ = philox4x32_10({static_cast<std::uint32_t>(block_index), static_cast<std::uint32_t>(block_index >> 32),
                                 static_cast<std::uint32_t>(index_), static_cast<std::uint32_t>(index_ >> 32)},
                                key_);
        cached_block_ = block_index;
    }
    return cached_;
}

std::uint32_t philox_stream::next_u32() {
    const std::uint32_t value = block(position_ >> 2)[position_ & 3];
    ++position_;
    return value;
}

std::uint64_t philox_stream::next_u64() {
    const std::uint64_t high = next_u32();
    return (high << 32) | next_u32();
}

void philox_stream::skip(std::uint64_t count) {
    position_ += count;
}

void philox_stream::uniform(float* out, std::size_t count) {
    // 24 bits: every value is exactly representable and strictly below 1.
    for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(next_u32() >> 8) * 0x1p-24f;
}

void philox_stream::normal(float* out, std::size_t count) {
    // Box-Muller on one Philox block: 53-bit u1 in (0, 1] (no log(0)) and u2 in [0, 1).
    // Position 4k holds the cosine value of block k, 4k + 2 the sine one.
    constexpr double two_pi = 6.283185307179586476925286766559;
    position_ += position_ & 1;
    std::size_t i = 0;
    while (i < count) {
        const auto& w = block(position_ >> 2);
        const std::uint64_t a = (std::uint64_t{w[0]} << 32) | w[1];
        const std::uint64_t b = (std::uint64_t{w[2]} << 32) | w[3];
        const double u1 = static_cast<double>((a >> 11) + 1) * 0x1p-53;
        const double u2 = static_cast<double>(b >> 11) * 0x1p-53;
        const double radius = std::sqrt(-2.0 * std::log(u1));
        const double angle = two_pi * u2;
        if ((position_ & 2) == 0) {
            out[i++] = static_cast<float>(radius * std::cos(angle));
            position_ += 2;
            if (i == count) break;
        }
        out[i++] = static_cast<float>(radius * std::sin(angle));
        position_ += 2;
    }
}

std::uint64_t philox_stream::integer(std::uint64_t bound) {
    if (bound == 0) throw error(source_mark{"philox_stream::integer"}, "bound is 0; pass a positive bound");
    // Reject the lowest (2^w mod bound) draws so that every residue is equally likely.
    if (bound <= 0xFFFFFFFFull) {
        const auto b = static_cast<std::uint32_t>(bound);
        const std::uint32_t threshold = static_cast<std::uint32_t>(0u - b) % b;
        std::uint32_t x = next_u32();
        while (x < threshold) x = next_u32();
        return x % b;
    }
    const std::uint64_t threshold = (0ull - bound) % bound;
    std::uint64_t x = next_u64();
    while (x < threshold) x = next_u64();
    return x % bound;
}

std::vector<std::int64_t> philox_stream::permutation(std::int64_t n) {
    if (n < 0)
        throw error(source_mark{"philox_stream::permutation"}, fmt::format("length {} is negative; pass n >= 0", n));
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    for (std::int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<std::int64_t>(integer(static_cast<std::uint64_t>(i) + 1));
        std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
    }
    return order;
}

namespace {

// Rows are cut into chunks of this many values so that one large sample still uses every
// thread; a chunk starts its row's stream at its own offset (skip), which gives the same
// numbers as one sequential pass.
constexpr std::int64_t chunk_values = 16384;

template <class Fill>
void fill_rows(float* out, std::int64_t rows, std::int64_t row_size, std::uint64_t seed, std::uint64_t purpose,
               std::uint64_t first_index, std::uint64_t step, std::uint64_t draws_per_value, Fill fill) {
    if (rows <= 0 || row_size <= 0) return;
    const std::int64_t chunks = (row_size + chunk_values - 1) / chunk_values;
#pragma omp parallel for schedule(static)
    for (std::int64_t item = 0; item < rows * chunks; ++item) {
        const std::int64_t row = item / chunks;
        const std::int64_t begin = (item % chunks) * chunk_values;
        const std::int64_t count = std::min(chunk_values, row_size - begin);
        philox_stream stream(seed, purpose, first_index + static_cast<std::uint64_t>(row), step);
        stream.skip(static_cast<std::uint64_t>(begin) * draws_per_value);
        fill(stream, out + row * row_size + begin, static_cast<std::size_t>(count));
    }
}

}  // namespace

void fill_normal(float* out, std::int64_t rows, std::int64_t row_size, std::uint64_t seed, std::uint64_t purpose,
                 std::uint64_t first_index, std::uint64_t step) {
    fill_rows(out, rows, row_size, seed, purpose, first_index, step, 2,
              [](philox_stream& s, float* o, std::size_t n) { s.normal(o, n); });
}

void fill_uniform(float* out, std::int64_t rows, std::int64_t row_size, std::uint64_t seed, std::uint64_t purpose,
                  std::uint64_t first_index, std::uint64_t step) {
    fill_rows(out, rows, row_size, seed, purpose, first_index, step, 1,
              [](philox_stream& s, float* o, std::size_t n) { s.uniform(o, n); });
}

}  // namespace difflab
