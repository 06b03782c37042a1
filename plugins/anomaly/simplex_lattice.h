// SPDX-License-Identifier: Apache-2.0
// 3-D simplex noise at a point: the lattice function under the `simplex` noise.
#pragma once

#include <array>
#include <cstdint>

namespace difflab::plugins {

/// A permutation of 0..255 that hashes lattice points to gradients.
using permutation_table = std::array<std::uint8_t, 256>;

/// Ken Perlin's permutation table ("Improving noise", SIGGRAPH 2002, reference implementation).
const permutation_table& perlin_permutation();

/// Simplex noise in 3-D (Perlin 2001; in the formulation of Gustavson 2005, "Simplex noise
/// demystified": the skewed tetrahedral lattice, 12 edge-midpoint gradients chosen by
/// perm[i + perm[j + perm[k]]] mod 12, each corner weighted by (0.6 - r^2)^4 and the sum scaled
/// by 32), about in [-1, 1], zero at lattice points, smooth everywhere. With `perm` = python3-noise's
/// table it reproduces that package's snoise3 (tests/fixtures/noise/simplex.safetensors).
double simplex_noise3(double x, double y, double z, const permutation_table& perm = perlin_permutation());

}  // namespace difflab::plugins
