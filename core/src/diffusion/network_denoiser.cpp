// SPDX-License-Identifier: Apache-2.0
// A network under a parametrization, and its training loss.
#include <difflab/base/error.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

namespace difflab {

namespace {

/// Whether `mask` broadcasts to `shape` with one row per example.
bool fits(const tensor& mask, const shape_t& shape) {
    if (mask.dim() != static_cast<std::int64_t>(shape.size()) || mask.size(0) != shape[0]) return false;
    for (std::size_t d = 1; d < shape.size(); ++d)
        if (mask.shape()[d] != 1 && mask.shape()[d] != shape[d]) return false;
    return true;
}

/// The mean squared error of each example, [N, 1, ..., 1]: plain, or weighted by `mask` and
/// divided by the mask's sum (denoising_loss says why).
tensor per_example_squared_error(const tensor& difference, const tensor& mask) {
    std::vector<std::int64_t> dims;
    for (std::int64_t d = 1; d < difference.dim(); ++d) dims.push_back(d);
    const tensor squared = difference * difference;
    if (!mask.defined()) return mean(squared, dims, true);
    if (!fits(mask, difference.shape()))
        throw error(
            fmt::format("denoising loss: condition.loss_mask {} does not fit the data {}; give it the data's "
                        "shape or 1 in the dimensions it spreads over, e.g. [N, 1, H, W]",
                        shape_text(mask.shape()), shape_text(difference.shape())));
    // mean(m e^2) * count / sum(m) = sum(m e^2) / sum(m), written so that a mask of ones
    // multiplies by exactly 1 twice: the unmasked loss, bit for bit.
    std::vector<float> scale;
    {
        const no_grad_guard constant;
        const std::vector<float> sums = sum(mask.expand(difference.shape()), dims, false).to_vector();
        const float count = static_cast<float>(difference.numel() / difference.size(0));
        for (const float s : sums) scale.push_back(s > 0 ? count / s : 0.0f);
    }
    return mean(squared * mask, dims, true) * per_example(difference, scale);
}

}  // namespace

network_denoiser::network_denoiser(network& net, const process& p, prediction kind, double sigma_data)
    : denoiser(p), net_(net), parametrization_(p, kind, sigma_data) {}

tensor network_denoiser::denoise(const tensor& x, double t) const {
    const std::vector<double> times(static_cast<std::size_t>(x.size(0)), t);
    const tensor x0 = parametrization_.evaluate(net_, x, times, cond_).x0(x);
    return clip_ ? clamp(x0, -1.0f, 1.0f) : x0;
}

tensor denoising_loss(network& net, const process& p, prediction kind, double sigma_data, const tensor& x0,
                      const std::vector<double>& times, const tensor& noise, const condition& cond) {
    const auto n = static_cast<std::size_t>(x0.size(0));
    if (times.size() != n || noise.shape() != x0.shape())
        throw error(fmt::format("denoising loss: {} times and noise {} for data {}", times.size(),
                                shape_text(noise.shape()), shape_text(x0.shape())));
    std::vector<float> alpha(n), sigma(n);
    for (std::size_t i = 0; i < n; ++i) {
        alpha[i] = static_cast<float>(p.alpha(times[i]));
        sigma[i] = static_cast<float>(p.sigma(times[i]));
    }
    const tensor& clean = cond.clean_mask;
    if (clean.defined() && !fits(clean, x0.shape()))
        throw error(
            fmt::format("denoising loss: condition.clean_mask {} does not fit the data {}; give it the data's "
                        "shape or 1 in the dimensions it spreads over, e.g. [N, 1, F, 1, 1] for whole frames",
                        shape_text(clean.shape()), shape_text(x0.shape())));
    tensor x_t = x0 * per_example(x0, alpha) + noise * per_example(x0, sigma);
    // RaMViD's given frames: x0 itself inside x_t, at the same noise input as the rest.
    if (clean.defined()) x_t = x_t + clean * (x0 - x_t);
    const parametrized_output f = parametrization(p, kind, sigma_data).evaluate(net, x_t, times, cond);
    std::vector<float> target_x0(n), target_noise(n), target_clean(n), weight(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = times[i], a = p.alpha(t), s = p.sigma(t);
        const preconditioning& c = f.coefficients[i];
        // F_target = (x0 - c_skip (a x0 + s noise)) / c_out, expanded so that no large terms
        // cancel (eps prediction at alpha ~ 0 has c_skip = 1 / alpha).
        target_x0[i] = static_cast<float>((1 - c.c_skip * a) / c.c_out);
        target_noise[i] = static_cast<float>(-c.c_skip * s / c.c_out);
        target_clean[i] = static_cast<float>((1 - c.c_skip) / c.c_out);
        weight[i] = static_cast<float>(p.loss_weight(t) * c.c_out * c.c_out);
    }
    tensor target = x0 * per_example(x0, target_x0) + noise * per_example(x0, target_noise);
    // Where x_t is x0 the target is still (x0 - c_skip x_t) / c_out: the output whose estimate is x0.
    if (clean.defined()) target = target + clean * (x0 * per_example(x0, target_clean) - target);
    return mean(per_example_squared_error(f.out - target, cond.loss_mask) * per_example(x0, weight));
}

}  // namespace difflab
