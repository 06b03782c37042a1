// SPDX-License-Identifier: Apache-2.0
// Distances between two sets of samples (rows of values), shared by oracles and metrics.
#pragma once

#include <cstdint>

namespace difflab {

/// Sliced 2-Wasserstein distance between two sets of `rows` samples of `cols` values each,
/// `a` and `b` row-major:
///     SW2(a, b) = sqrt( mean over directions theta of W2^2(a theta, b theta) ),
/// W2 of the 1-D projections by sorting (Rabin et al. 2011, "Wasserstein barycenter and its
/// application to texture mixing"; Bonneel et al. 2015, "Sliced and Radon Wasserstein
/// barycenters of measures"). The `projections` directions are uniform on the sphere: direction
/// k normalizes `cols` N(0, 1) draws of the stream (seed, "oracle/sliced_wasserstein", k) -- the
/// name from when this lived in the oracles plugin, kept so that recorded results reproduce --
/// so two calls with the same seed use the same directions. In one dimension it is the exact W2.
/// Throws difflab::error unless rows, cols and projections are positive.
double sliced_wasserstein(const double* a, const double* b, std::int64_t rows, std::int64_t cols,
                          std::int64_t projections, std::uint64_t seed);

}  // namespace difflab
