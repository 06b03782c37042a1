// SPDX-License-Identifier: Apache-2.0
// The 'sampler' component kind and what a sampling run hands it.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/noise.h>
#include <difflab/plugin/component.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace difflab {

/// What a sampler run gets besides the denoiser. Randomness is keyed per sample and per
/// step, so the same seed gives the same samples whatever the batch size or thread count:
/// sample i of the batch draws from the Philox stream (seed, "sampler/noise", first_index + i,
/// step). Conditioning hooks (constraints after each step, a later start time, time
/// schedules that jump back) join this context as the tasks that need them arrive.
struct sampling_context {
    std::uint64_t seed = 0;
    std::uint64_t first_index = 0;
    /// The noise the experiment's `noise:` section names; standard Gaussian when null.
    const noise* source = nullptr;

    /// Noise shaped like x for sampler step `step` (N(0, I) unless `source` says otherwise).
    tensor noise_like(const tensor& x, std::uint64_t step) const;
};

/// Integrates the reverse process from a denoiser (DDPM, DDIM, ODE solvers, DPM-Solver,
/// EDM, ...): written as short functions over the denoiser, as in k-diffusion, so that every
/// sampler runs on every process where it is defined.
class sampler : public component {
public:
    static constexpr const char* kind_name = "sampler";
    using kind_type = sampler;

    /// Returns x_0 from x at the process's t_max (prior noise, already scaled by prior_std).
    virtual tensor sample(const denoiser& d, tensor x, const sampling_context& ctx) const = 0;

    /// Denoiser evaluations (NFE) one run of sample() spends on process p with these options;
    /// 0 when that is not known beforehand (adaptive step sizes). Comparisons at equal NFE
    /// (experiments/oracle/samplers_vs_nfe.yaml) pick each sampler's steps from it.
    virtual std::int64_t evaluations(const process& p) const;

    /// Whether sample() is a deterministic map of x (an ODE solver, DDIM at eta 0): such
    /// samplers are also compared with the exact probability-flow ODE solution from the same x.
    virtual bool deterministic() const { return false; }

    /// Throws config_error saying why, and what to use instead, when this sampler is not
    /// defined for p (docs/samplers.md has the sampler x process matrix). Tasks call it
    /// before they sample, so a refusal comes before any work.
    virtual void check(const process& p) const;
};

/// The times a sampler evaluates the denoiser at: `steps` points from t_max down to t_min
/// (t_max alone for one step). After the last point samplers step to clean data, the
/// denoised estimate there, as DDIM with alpha_0 = 1 and k-diffusion's final sigma = 0 do.
/// Spacings:
///   uniform   uniform in t
///   quadratic uniform in sqrt(t - t_min) (denser near t_min; DDIM's "quad")
///   karras    uniform in sigma^(1/7) of sigma / alpha (Karras et al. 2022, eq. 5)
///   logsnr    uniform in log-SNR (Lu et al. 2022, DPM-Solver)
std::vector<double> time_grid(const process& p, std::int64_t steps, const std::string& spacing);

/// One update of a sampler that evaluates the denoiser once per step: from x at t, with the
/// denoised estimate x0 there, to time s; `step` is the step's index (for its noise stream).
using denoised_step = std::function<tensor(const tensor& x, const tensor& x0, double t, double s, std::size_t step)>;

/// The loop such samplers share (DDIM, ancestral DDPM, Euler-Maruyama): without recording
/// gradients, evaluate x0 at each grid time, apply `update` towards the next, and return the
/// denoised estimate at the last time. Evaluations: grid.size().
tensor denoise_along(const denoiser& d, tensor x, const std::vector<double>& grid, const denoised_step& update);

/// The spacings time_grid accepts, for parameter tables.
const std::vector<std::string>& time_grid_spacings();

}  // namespace difflab
