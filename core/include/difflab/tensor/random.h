// SPDX-License-Identifier: Apache-2.0
// Counter-based randomness (Philox-4x32-10): reproducible whatever the batch size or threads.
#pragma once

#include <difflab/tensor/tensor.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace difflab {

/// A stable 64-bit name of a purpose ("dropout", "noise", "init/linear"): FNV-1a of its bytes,
/// so the same name gives the same stream on every platform and in every release.
std::uint64_t random_purpose(std::string_view name);

/// The Philox-4x32-10 bijection: ten rounds over a 128-bit counter with a 64-bit key.
/// Matches Random123's reference (and its published known-answer vectors).
std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key);

/// One stream of random numbers, keyed by (seed, purpose, index[, step]).
///
/// Follows Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC'11): the stream is
/// Philox-4x32-10 over the counter (block, index) under a key mixed from (seed, purpose, step),
/// so any draw is a pure function of its coordinates. Sample i of a batch uses the stream
/// (seed, purpose, first_index + i); its numbers then do not depend on the batch size, on how
/// the batch is split across threads or MPI ranks, or on the other samples.
///
/// The stream is a sequence of 32-bit draws. `uniform` uses one draw per value; `normal` uses
/// two per value (a Philox block gives one Box-Muller pair in double precision), starting at an
/// even position, so `normal(a, n); normal(b, m)` equals `normal(c, n + m)`.
class philox_stream {
public:
    /// `step` separates streams that are redrawn every training step or sampler step.
    philox_stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t index, std::uint64_t step = 0);

    /// N(0, 1) values; advances the stream by 2 draws per value (after rounding it up to even).
    void normal(float* out, std::size_t count);
    /// Uniform values in [0, 1) with 24 random bits each; advances the stream by `count` draws.
    void uniform(float* out, std::size_t count);
    /// A uniform integer in [0, bound), unbiased (rejection); bound must be positive.
    std::uint64_t integer(std::uint64_t bound);
    /// A uniformly random permutation of 0 .. n-1 (Fisher-Yates).
    std::vector<std::int64_t> permutation(std::int64_t n);
    /// Jumps ahead by `count` 32-bit draws without computing them.
    void skip(std::uint64_t count);

    /// The next raw 32-bit draw.
    std::uint32_t next_u32();
    /// The next 64 random bits (two draws).
    std::uint64_t next_u64();
    /// How many 32-bit draws were used so far (a checkpoint can store it and `skip` back).
    std::uint64_t position() const { return position_; }

private:
    const std::array<std::uint32_t, 4>& block(std::uint64_t block_index);

    std::array<std::uint32_t, 2> key_;
    std::uint64_t index_;
    std::uint64_t position_ = 0;
    std::uint64_t cached_block_ = ~std::uint64_t{0};
    std::array<std::uint32_t, 4> cached_{};
};

/// Fills `rows` rows of `row_size` floats: row i from philox_stream(seed, purpose,
/// first_index + i, step), in parallel over rows (the result does not depend on thread count).
void fill_normal(float* out, std::int64_t rows, std::int64_t row_size, std::uint64_t seed, std::uint64_t purpose,
                 std::uint64_t first_index, std::uint64_t step = 0);
/// As `fill_normal`, with uniform values in [0, 1).
void fill_uniform(float* out, std::int64_t rows, std::int64_t row_size, std::uint64_t seed, std::uint64_t purpose,
                  std::uint64_t first_index, std::uint64_t step = 0);

/// An f32 tensor of N(0, 1) values: row i along dim 0 comes from the stream
/// (seed, purpose, first_index + i, step), so a batch of 64 equals 64 batches of one.
/// A 0-d shape is one row of one value.
tensor randn(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index = 0,
             std::uint64_t step = 0);
/// As `randn`, with uniform values in [0, 1).
tensor rand(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index = 0,
            std::uint64_t step = 0);

}  // namespace difflab
