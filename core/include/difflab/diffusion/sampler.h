// SPDX-License-Identifier: Apache-2.0
// The 'sampler' component kind and what a sampling run hands it.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/plugin/component.h>
#include <difflab/plugin/params.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace difflab {

class state_constraint;
struct observation;

/// What a sampler run gets besides the denoiser. Randomness is keyed per sample and per
/// step, so the same seed gives the same samples whatever the batch size or thread count:
/// sample i of the batch draws from the Philox stream (seed, "sampler/noise", first_index + i,
/// step). Conditioning arrives here, never as special cases in a sampler's loop: the path to
/// follow (a later start, jumps back up) and the constraints that edit the state between
/// steps. Guidance wraps the denoiser instead (classifier_free_guidance.h, classifier_guidance.h).
struct sampling_context {
    std::uint64_t seed = 0;
    std::uint64_t first_index = 0;
    /// The noise the experiment's `noise:` section names; standard Gaussian when null.
    const noise* source = nullptr;
    /// The path to follow; null: the sampler's own time grid from t_max (its default path).
    const sampling_path* path = nullptr;
    /// State edits (constraint.h), applied in order to the state at the path's start and after
    /// each denoising step that enables them.
    std::vector<const state_constraint*> constraints;
    /// Measurements of the samples for a sampler that inverts them itself (DDRM; see
    /// sampler::inverts_observation); null otherwise. Samplers that do not invert observations
    /// never read it: tasks condition those through constraints and guidance operators.
    const observation* observed = nullptr;

    /// Noise shaped like x for sampler step `step` (N(0, I) unless `source` says otherwise).
    tensor noise_like(const tensor& x, std::uint64_t step) const;
    /// The same noise on another stream: (seed, purpose, first_index + i, step).
    tensor draw(const tensor& like, const char* purpose, std::uint64_t step) const;
    /// Whether anything but the default path without constraints is asked for.
    bool conditioned() const { return path != nullptr || !constraints.empty(); }
};

/// One sampler's walk along a path (sampler::start): the loop that follows the path
/// (follow_path) hands it one denoising step at a time and tells it when the state was changed
/// from outside, so that one implementation of each conditioning operator runs on every
/// sampler that can follow paths.
class sampler_run {
public:
    virtual ~sampler_run() = default;
    /// The state at step.to from x at step.from; `index` (the step's position on the path)
    /// keys its noise. Unless restart() was called since, x is what the last call returned, so
    /// a run may keep its own form of the state (EDM's x / alpha) between calls.
    virtual tensor step(const tensor& x, const path_step& step, std::uint64_t index) = 0;
    /// The state was edited or jumped: forget what earlier steps left (multistep history).
    virtual void restart() {}
    /// Clean data from x at the path's last time t; `index` follows the last step's.
    virtual tensor finish(const tensor& x, double t, std::uint64_t index) = 0;
};

/// Integrates the reverse process from a denoiser (DDPM, DDIM, ODE solvers, DPM-Solver,
/// EDM, ...): written as short functions over the denoiser, as in k-diffusion, so that every
/// sampler runs on every process where it is defined.
class sampler : public component {
public:
    static constexpr const char* kind_name = "sampler";
    using kind_type = sampler;

    /// Returns x_0 from x at the start of ctx.path, by default the process's t_max (prior
    /// noise, already scaled by prior_std): follow_path with this sampler's run.
    virtual tensor sample(const denoiser& d, tensor x, const sampling_context& ctx) const;

    /// The times of this sampler's steps from t_start down to t_min (its steps and spacing):
    /// its default path from t_max, and the descent of a path that starts later.
    virtual std::vector<double> times(const process& p, double t_start) const;
    /// A run along a path on denoiser d; nullptr when this sampler cannot follow paths (it
    /// then overrides sample() and follows_paths()).
    virtual std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const;
    /// Whether this sampler follows paths and constraints (all but adaptive ones).
    virtual bool follows_paths() const { return true; }

    /// Denoiser evaluations (NFE) one run of sample() spends on process p with these options;
    /// 0 when that is not known beforehand (adaptive step sizes). Comparisons at equal NFE
    /// (experiments/oracle/samplers_vs_nfe.yaml, `sample.nfe`) pick each sampler's steps from it
    /// (sampler_for_budget, nfe_budget.h).
    virtual std::int64_t evaluations(const process& p) const;

    /// Whether this sampler conditions on ctx.observed itself (DDRM, Kawar et al. 2022): it then
    /// refuses to run without an observation, and a task that restores from a measurement hands
    /// it one instead of composing constraints or guidance.
    virtual bool inverts_observation() const { return false; }

    /// Whether sample() is a deterministic map of x (an ODE solver, DDIM at eta 0): such
    /// samplers are also compared with the exact probability-flow ODE solution from the same x.
    virtual bool deterministic() const { return false; }

    /// Throws config_error saying why, and what to use instead, when this sampler is not
    /// defined for p (docs/samplers.md has the sampler x process matrix). Tasks call it
    /// before they sample, so a refusal comes before any work.
    virtual void check(const process& p) const;
};

/// Samples along ctx.path (the sampler's default path when null) with s's run: each denoising
/// step by the run, ctx.constraints after each step that enables them (and on the start
/// state), jumps through forward_jump, history forgotten after an edit or a jump, and clean
/// data from the last state. No gradients are recorded (guidance records its own). Throws
/// config_error when s cannot follow paths and ctx asks for one.
tensor follow_path(const sampler& s, const denoiser& d, tensor x, const sampling_context& ctx);

/// The times a sampler evaluates the denoiser at: `steps` points from t_max (or a later
/// start t_start) down to t_min (the start alone for one step). After the last point samplers step to clean data, the
/// denoised estimate there, as DDIM with alpha_0 = 1 and k-diffusion's final sigma = 0 do.
/// Spacings:
///   uniform   uniform in t
///   quadratic uniform in sqrt(t - t_min) (denser near t_min; DDIM's "quad")
///   karras    uniform in sigma^(1/7) of sigma / alpha (Karras et al. 2022, eq. 5)
///   logsnr    uniform in log-SNR (Lu et al. 2022, DPM-Solver)
std::vector<double> time_grid(const process& p, std::int64_t steps, const std::string& spacing);
std::vector<double> time_grid(const process& p, std::int64_t steps, const std::string& spacing, double t_start);

/// The spacings time_grid accepts, for parameter tables.
const std::vector<std::string>& time_grid_spacings();

/// The options of every sampler that runs on time_grid. A sampler's options derive from it
/// and set their own defaults in a constructor: `options() : grid_options{1000} {}`.
struct grid_options {
    std::int64_t steps = 50;
    std::string spacing = "uniform";
};

/// Adds `steps` (>= 1) and `spacing` (one of time_grid_spacings()) to the table of any options
/// struct derived from grid_options, with the sampler's own documentation of them.
template <class Options>
void add_grid_options(param_spec<Options>& spec,
                      std::string steps_doc = "Number of denoising steps (= network evaluations).",
                      std::string spacing_doc = "Time grid.") {
    static_assert(std::is_base_of_v<grid_options, Options>, "the options must derive from difflab::grid_options");
    // A pointer to a base member converts to one of the derived struct, which the table needs.
    spec.add(static_cast<std::int64_t Options::*>(&grid_options::steps), "steps", std::move(steps_doc),
             at_least<std::int64_t>(1));
    spec.add(static_cast<std::string Options::*>(&grid_options::spacing), "spacing", std::move(spacing_doc),
             one_of(time_grid_spacings()));
}

/// What grid_sampler::update gets for one step: x at time t, the denoised estimate x0 there,
/// the next time s < t, and the step's index i on the path, which keys its noise.
struct grid_step {
    const process& p;
    const tensor& x;
    const tensor& x0;
    double t;
    double s;
    std::size_t i;
    const sampling_context& ctx;

    /// The noise of this step, shaped like x (sampling_context::noise_like(x, i)).
    tensor noise() const { return ctx.noise_like(x, i); }
};

/// A sampler that evaluates the denoiser once per path step (DDIM, ancestral DDPM,
/// Euler-Maruyama, k-diffusion's Euler samplers): it owns `steps` and `spacing`, refuses
/// undefined processes through check() before any evaluation, follows any path (its default
/// one is the grid from t_max), lands on the denoised estimate at the last time and announces
/// `steps` evaluations. A derived sampler writes only update().
class grid_sampler : public sampler {
public:
    explicit grid_sampler(grid_options options) : grid_(std::move(options)) {}

    std::vector<double> times(const process& p, double t_start) const override {
        return time_grid(p, grid_.steps, grid_.spacing, t_start);
    }
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process&) const override { return grid_.steps; }

protected:
    /// The next x, at time step.s, from x at step.t and the denoised estimate there.
    virtual tensor update(const grid_step& step) const = 0;

private:
    class run;
    grid_options grid_;
};

}  // namespace difflab
