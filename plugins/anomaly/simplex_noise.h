// SPDX-License-Identifier: Apache-2.0
// The 'simplex' noise: fractal 3-D simplex noise on images, AnoDDPM's noise.
#pragma once

#include <difflab/diffusion/noise.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>

namespace difflab::plugins {

/// Simplex noise for diffusion (Wyatt et al. 2022, "AnoDDPM: Anomaly detection with denoising
/// diffusion probabilistic models using simplex noise"): each image plane [H, W] of a draw is a
/// slice of fractal 3-D simplex noise (simplex_lattice.h),
///     n(r, c) = sum_{o < octaves} persistence^o simplex3(c / f_o + a, r / f_o + b, z + o),
///     f_o = frequency / 2^o (in pixels),
/// a slice of 3-D noise as AnoDDPM takes, whose author found 2-D octaves directional. The offsets
/// (a, b, z), uniform in [0, 256) per plane, are drawn from the Philox stream (seed, purpose,
/// example index, step) of the draw, so a draw depends only on its key, never on the batch or
/// thread count. `normalize` (the default) divides by the standard deviation of such sums, so that
/// the draws have unit variance as the `noise` kind asks and as Gaussian noise has; AnoDDPM's
/// reference code does not normalize (its octave sums, 6 octaves at persistence 0.8, have a
/// standard deviation of 0.68). Draws need images: shapes [N, ..., H, W] with H, W the last two.
class simplex_noise final : public noise {
public:
    struct options {
        std::int64_t octaves = 6;
        double persistence = 0.8;
        double frequency = 64;
        bool normalize = true;
    };
    static param_spec<options> params();
    simplex_noise(const options& opts, build_context& ctx);

    tensor draw(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index,
                std::uint64_t step) const override;

    /// The standard deviation of one octave sum with these options, estimated once from 65536
    /// points of a fixed Philox stream (what `normalize` divides by).
    double octave_sum_std() const { return scale_; }

private:
    options opts_;
    double scale_ = 1;
};

}  // namespace difflab::plugins
