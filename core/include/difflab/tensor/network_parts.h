// SPDX-License-Identifier: Apache-2.0
// Pieces every denoising network shares: the timestep embedding and per-layer seeds.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>

namespace difflab {

/// The sinusoidal timestep embedding of Ho et al. 2020 (after Vaswani et al. 2017), as
/// improved-diffusion's timestep_embedding: [cos(t f_0), ..., cos(t f_{h-1}), sin(t f_0), ...],
/// f_i = 10000^(-i / h), h = dim / 2, for t = noise * scale (noise [N] -> [N, dim]; an odd dim
/// leaves the last column 0). Computed in double: t * 1000 reaches 1000 radians, where f32
/// arguments would be off by ~1e-4. An input: no gradient flows to it.
tensor timestep_embedding(const tensor& noise, std::int64_t dim, double scale);

/// A layer's own weight seed under a network's base seed, from its module path
/// ("down.0.res.0.conv_1"): distinct, well-mixed (splitmix64 finalizer) and independent of
/// the order layers are built in.
std::uint64_t layer_seed(std::uint64_t base, const std::string& path);

}  // namespace difflab
