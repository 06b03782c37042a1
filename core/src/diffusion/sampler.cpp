// SPDX-License-Identifier: Apache-2.0
// Sampling context and time discretizations.
#include <difflab/base/error.h>
#include <difflab/diffusion/constraint.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab {

tensor sampling_context::noise_like(const tensor& x, std::uint64_t step) const {
    return draw(x, "sampler/noise", step);
}

tensor sampling_context::draw(const tensor& like, const char* purpose, std::uint64_t step) const {
    const std::uint64_t key = random_purpose(purpose);
    if (source) return source->draw(like.shape(), seed, key, first_index, step);
    return randn(like.shape(), seed, key, first_index, step);
}

std::int64_t sampler::evaluations(const process&) const {
    return 0;
}

tensor sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    return follow_path(*this, d, std::move(x), ctx);
}

std::vector<double> sampler::times(const process&, double) const {
    throw error("this sampler has no time grid; override sampler::times (or sample) in it");
}

std::unique_ptr<sampler_run> sampler::start(const denoiser&, const sampling_context&) const {
    return nullptr;
}

void sampler::check(const process&) const {}

const std::vector<std::string>& time_grid_spacings() {
    static const std::vector<std::string> names{"uniform", "quadratic", "karras", "logsnr"};
    return names;
}

std::vector<double> time_grid(const process& p, std::int64_t steps, const std::string& spacing) {
    return time_grid(p, steps, spacing, p.t_max());
}

std::vector<double> time_grid(const process& p, std::int64_t steps, const std::string& spacing, double t_start) {
    if (steps < 1) throw error(fmt::format("a time grid needs at least one step, got {}", steps));
    const double t0 = p.t_min(), t1 = t_start;
    if (!(t1 > t0 && t1 <= p.t_max()))
        throw config_error(
            fmt::format("a start time must lie in (t_min, t_max] = ({:g}, {:g}] of the process, got {:g}; "
                        "start later or at t_max",
                        t0, p.t_max(), t1));
    std::vector<double> grid(static_cast<std::size_t>(steps));
    for (std::int64_t i = 0; i < steps; ++i) {
        const double u = steps == 1 ? 1.0 : 1.0 - static_cast<double>(i) / static_cast<double>(steps - 1);  // 1 -> 0
        double t = 0;
        if (spacing == "uniform") {
            t = t0 + u * (t1 - t0);
        } else if (spacing == "quadratic") {
            t = t0 + u * u * (t1 - t0);
        } else if (spacing == "karras") {
            // sigma / alpha is the noise level of x / alpha; warp it with rho = 7, then map back.
            const double rho = 7.0;
            const double lo = std::pow(std::exp(-0.5 * p.log_snr(t0)), 1 / rho);
            const double hi = std::pow(std::exp(-0.5 * p.log_snr(t1)), 1 / rho);
            t = p.t_of_log_snr(-2.0 * rho * std::log(lo + u * (hi - lo)));
        } else if (spacing == "logsnr") {
            const double lo = p.log_snr(t0), hi = p.log_snr(t1);
            t = p.t_of_log_snr(lo + u * (hi - lo));
        } else {
            throw config_error(
                fmt::format("unknown time spacing '{}'; valid: uniform, quadratic, karras, logsnr", spacing));
        }
        grid[static_cast<std::size_t>(i)] = t;
    }
    grid.front() = t1;  // exact end points, whatever rounding the conversions add
    if (steps > 1) grid.back() = t0;
    return grid;
}

/// The loop of grid samplers: one evaluation and one update per path step.
class grid_sampler::run final : public sampler_run {
public:
    run(const grid_sampler& s, const denoiser& d, const sampling_context& ctx) : s_(s), d_(d), ctx_(ctx) {}

    tensor step(const tensor& x, const path_step& step, std::uint64_t index) override {
        const tensor x0 = d_.x0(x, step.from);
        return s_.update(grid_step{d_.diffusion_process(), x, x0, step.from, step.to, index, ctx_});
    }
    tensor finish(const tensor& x, double t, std::uint64_t) override { return d_.x0(x, t); }

private:
    const grid_sampler& s_;
    const denoiser& d_;
    const sampling_context& ctx_;
};

std::unique_ptr<sampler_run> grid_sampler::start(const denoiser& d, const sampling_context& ctx) const {
    return std::make_unique<run>(*this, d, ctx);
}

tensor follow_path(const sampler& s, const denoiser& d, tensor x, const sampling_context& ctx) {
    const process& p = d.diffusion_process();
    s.check(p);
    no_grad_guard no_grad;
    std::unique_ptr<sampler_run> run = s.start(d, ctx);
    if (!run)
        throw config_error(
            "this sampler cannot follow a sampling path or constraints; choose a sampler that steps along a time "
            "grid (ddim, ddpm, dpm_solver_pp, euler_maruyama, edm, ode with method heun)");
    const sampling_path default_path = ctx.path ? sampling_path{} : descent(s.times(p, p.t_max()));
    const sampling_path& path = ctx.path ? *ctx.path : default_path;
    const auto constrain = [&](tensor state, double t, std::uint64_t index) {
        for (const state_constraint* c : ctx.constraints) state = c->apply(state, t, index, ctx);
        run->restart();
        return state;
    };
    if (!ctx.constraints.empty() && (path.steps.empty() || path.steps.front().constrain))
        x = constrain(std::move(x), path.start, 0);
    std::uint64_t index = 0;
    for (const path_step& step : path.steps) {
        if (step.what == path_step::kind::jump) {
            x = forward_jump(p, x, step.from, step.to, index, ctx);
            run->restart();
        } else {
            x = run->step(x, step, index);
            if (step.constrain && !ctx.constraints.empty()) x = constrain(std::move(x), step.to, index + 1);
        }
        ++index;
    }
    return run->finish(x, path.end(), index);
}

}  // namespace difflab
