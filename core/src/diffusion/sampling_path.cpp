// SPDX-License-Identifier: Apache-2.0
// Sampling paths: descents, RePaint's jumps, starts from a supplied x.
#include <difflab/base/error.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <cmath>
#include <map>

namespace difflab {

double sampling_path::end() const {
    return steps.empty() ? start : steps.back().to;
}

bool sampling_path::descends() const {
    for (const path_step& step : steps)
        if (step.what == path_step::kind::jump) return false;
    return true;
}

std::int64_t sampling_path::denoise_steps() const {
    std::int64_t n = 0;
    for (const path_step& step : steps) n += step.what == path_step::kind::denoise ? 1 : 0;
    return n;
}

namespace {

/// Sets each denoising step's `remaining`: the denoising steps left before the next jump or the end.
void count_remaining(sampling_path& path) {
    std::int64_t left = 0;
    for (auto step = path.steps.rbegin(); step != path.steps.rend(); ++step) {
        if (step->what == path_step::kind::jump) {
            left = 0;
            continue;
        }
        step->remaining = ++left;
    }
}

}  // namespace

sampling_path descent(const std::vector<double>& grid) {
    if (grid.empty()) throw error("a sampling path needs at least one time");
    sampling_path path;
    path.start = grid.front();
    for (std::size_t i = 0; i + 1 < grid.size(); ++i)
        path.steps.push_back({path_step::kind::denoise, grid[i], grid[i + 1]});
    count_remaining(path);
    return path;
}

sampling_path repaint_path(const std::vector<double>& grid, std::int64_t jump_length, std::int64_t jump_n_sample) {
    if (jump_length < 1 || jump_n_sample < 1)
        throw config_error(
            fmt::format("RePaint's schedule needs jump_length >= 1 and jump_n_sample >= 1, got {} and {}; "
                        "set both to positive whole numbers",
                        jump_length, jump_n_sample));
    if (grid.empty()) throw error("a sampling path needs at least one time");
    const auto n = static_cast<std::int64_t>(grid.size());
    // Positions count grid times from the end (0 = the last grid time), as RePaint's indices do.
    std::map<std::int64_t, std::int64_t> jumps_left;
    for (std::int64_t j = 0; j < n - jump_length; j += jump_length) jumps_left[j] = jump_n_sample - 1;
    const auto time_at = [&](std::int64_t position) { return grid[static_cast<std::size_t>(n - 1 - position)]; };
    sampling_path path;
    path.start = grid.front();
    for (std::int64_t position = n - 1; position > 0;) {
        path.steps.push_back({path_step::kind::denoise, time_at(position), time_at(position - 1)});
        --position;
        auto left = jumps_left.find(position);
        if (left != jumps_left.end() && left->second > 0) {
            --left->second;
            path.steps.push_back({path_step::kind::jump, time_at(position), time_at(position + jump_length)});
            position += jump_length;
        }
    }
    count_remaining(path);
    return path;
}

void constrain_between(sampling_path& path, double t_low, double t_high) {
    for (path_step& step : path.steps) step.constrain = step.to >= t_low && step.to <= t_high;
}

double time_of_noise_level(const process& p, double level) {
    if (!(level > 0))
        throw config_error(
            fmt::format("a start noise level must be positive, got {:g}; give sigma / alpha of the "
                        "start, or a start time",
                        level));
    return p.t_of_log_snr(-2.0 * std::log(level));
}

tensor forward_jump(const process& p, const tensor& x, double t, double s, std::uint64_t index,
                    const sampling_context& ctx) {
    const double ratio = p.alpha(s) / p.alpha(t), sigma_s = p.sigma(s), sigma_t = p.sigma(t);
    const double variance = sigma_s * sigma_s - ratio * ratio * sigma_t * sigma_t;
    const tensor z = ctx.draw(x, "path/jump", index);
    return x * ratio + z * std::sqrt(std::max(variance, 0.0));
}

tensor noised_start(const process& p, const tensor& x0, double t, const sampling_context& ctx) {
    return x0 * p.alpha(t) + ctx.draw(x0, "path/start", 0) * p.sigma(t);
}

}  // namespace difflab
