// SPDX-License-Identifier: Apache-2.0
// Sampling context and time discretizations.
#include <difflab/base/error.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab {

tensor sampling_context::noise_like(const tensor& x, std::uint64_t step) const {
    const std::uint64_t purpose = random_purpose("sampler/noise");
    if (source) return source->draw(x.shape(), seed, purpose, first_index, step);
    return randn(x.shape(), seed, purpose, first_index, step);
}

std::int64_t sampler::evaluations(const process&) const {
    return 0;
}

void sampler::check(const process&) const {}

const std::vector<std::string>& time_grid_spacings() {
    static const std::vector<std::string> names{"uniform", "quadratic", "karras", "logsnr"};
    return names;
}

std::vector<double> time_grid(const process& p, std::int64_t steps, const std::string& spacing) {
    if (steps < 1) throw error(fmt::format("a time grid needs at least one step, got {}", steps));
    const double t0 = p.t_min(), t1 = p.t_max();
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

tensor denoise_along(const denoiser& d, tensor x, const std::vector<double>& grid, const denoised_step& update) {
    no_grad_guard no_grad;
    for (std::size_t i = 0; i < grid.size(); ++i) {
        const tensor x0 = d.x0(x, grid[i]);
        if (i + 1 == grid.size()) return x0;  // the last step lands on clean data
        x = update(x, x0, grid[i], grid[i + 1], i);
    }
    return x;
}

tensor grid_sampler::sample(const denoiser& d, tensor x, const sampling_context& ctx) const {
    const process& p = d.diffusion_process();
    check(p);
    return denoise_along(d, std::move(x), grid(p),
                         [&](const tensor& x_t, const tensor& x0, double t, double s, std::size_t i) {
                             return update(grid_step{p, x_t, x0, t, s, i, ctx});
                         });
}

}  // namespace difflab
