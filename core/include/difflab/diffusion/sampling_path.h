// SPDX-License-Identifier: Apache-2.0
// Time as a path: where sampling starts, the steps it takes down, and the jumps back up.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <vector>

namespace difflab {

struct sampling_context;

/// One transition of a sampling path.
///   denoise  the sampler moves the state from time `from` down to `to` < from;
///   jump     the state is noised from `from` up to `to` > from through the forward kernel
///            q(x_to | x_from) (RePaint's "resampling", Lugmayr et al. 2022).
struct path_step {
    enum class kind { denoise, jump };
    kind what = kind::denoise;
    double from = 0;
    double to = 0;
    /// Denoising steps left in this descent, this one included (1 on the step before a jump or
    /// the end): multistep solvers lower their order towards it (Lu et al.'s lower_order_final).
    std::int64_t remaining = 1;
    /// Whether the sampling context's constraints edit the state this step arrives at
    /// (ILVR applies its low-pass swap above a time only; replacement applies everywhere).
    bool constrain = true;
};

/// A sequence of transitions from the state at time `start`. The samplers' default path is
/// the descent along their own time grid from t_max; a start at a later time (SDEdit, Meng et
/// al. 2022; AnoDDPM) or jumps back up (RePaint) are other paths, which every sampler that can
/// follow a path follows with the same code.
struct sampling_path {
    double start = 0;
    std::vector<path_step> steps;

    /// The time of the state the path ends at (where samplers land on clean data).
    double end() const;
    /// Whether the path only descends (no jumps).
    bool descends() const;
    /// Denoising steps on the path.
    std::int64_t denoise_steps() const;
};

/// The path down a descending time grid: one step between consecutive grid times.
sampling_path descent(const std::vector<double>& grid);

/// RePaint's schedule (Lugmayr et al. 2022, Algorithm 1 and its `get_schedule_jump`) over a
/// descending grid of n times: descend; after each `jump_length` steps down (except the
/// last stretch), jump back up `jump_length` grid times and descend again, `jump_n_sample - 1`
/// times, so every stretch is denoised jump_n_sample times. One jump covers the stretch in
/// one draw from q(x_s | x_t), which has the distribution of RePaint's jump_length one-step
/// draws. jump_n_sample = 1 is the plain descent.
sampling_path repaint_path(const std::vector<double>& grid, std::int64_t jump_length, std::int64_t jump_n_sample);

/// Enables constraints only on steps that arrive at a time in [t_low, t_high] (a per-step
/// window; ILVR conditions down to its range_t, for example).
void constrain_between(sampling_path& path, double t_low, double t_high);

/// The time of noise level `level` = sigma / alpha (the sigma of Karras et al.): starts are
/// given as a time or as a noise level, never as a fraction of a sampler's steps.
double time_of_noise_level(const process& p, double level);

/// x_s ~ q(x_s | x_t) for s > t: (alpha_s / alpha_t) x_t + sqrt(sigma_s^2 - (alpha_s / alpha_t)^2 sigma_t^2) z,
/// the forward transition kernel of every process with Gaussian marginals, with z from the
/// context's noise on the stream (seed, "path/jump", sample, index).
tensor forward_jump(const process& p, const tensor& x, double t, double s, std::uint64_t index,
                    const sampling_context& ctx);

/// x_t ~ q(x_t | x_0) = alpha x0 + sigma z: a supplied image noised to the start of a path,
/// with z from the context's noise on the stream (seed, "path/start", sample, 0).
tensor noised_start(const process& p, const tensor& x0, double t, const sampling_context& ctx);

}  // namespace difflab
