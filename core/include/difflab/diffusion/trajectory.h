// SPDX-License-Identifier: Apache-2.0
// Records the path a sampler takes (x_t and the denoised estimate at each evaluation) and draws it.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace difflab {

/// One denoiser evaluation of a sampling run, for the first samples of the batch.
struct trajectory_frame {
    double t = 0;
    tensor x;   ///< x_t, the sampler's state [rows, ...]
    tensor x0;  ///< the denoised estimate E[x_0 | x_t] there
};

/// A denoiser that passes every evaluation to `inner` and keeps a copy of x_t and of the
/// denoised estimate for the first `rows` samples: the denoising trajectory of Ho et al. 2020
/// (Fig. 6, x_t and its x_0 prediction along the reverse process) for any sampler, with no
/// sampler changed. Counts as the wrapped denoiser does (one evaluation per call).
class trajectory_recorder final : public denoiser {
public:
    trajectory_recorder(const denoiser& inner, std::int64_t rows);

    const std::vector<trajectory_frame>& frames() const { return frames_; }

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    const denoiser& inner_;
    std::int64_t rows_;
    mutable std::vector<trajectory_frame> frames_;
};

/// Indices of `columns` frames spread evenly over `frames` evaluations, first and last
/// included (all of them when there are fewer).
std::vector<std::size_t> strip_frames(std::size_t frames, std::size_t columns);

/// The strip as a PNG: for each recorded sample, a row of x_t and below it a row of the denoised
/// estimate at the `strip_frames(frames, columns)` evaluations, each row ending with the final
/// sample (`samples`, the sampler's output, whose first rows are the recorded ones). x_t is
/// shown divided by sqrt(alpha(t)^2 + sigma(t)^2), so that variance-exploding processes' noise
/// fits the [-1, 1] display range as variance-preserving ones do. Returns the times shown.
std::vector<double> write_trajectory_strip(const std::filesystem::path& path, const process& p,
                                           const std::vector<trajectory_frame>& frames, const tensor& samples,
                                           std::int64_t columns);

}  // namespace difflab
