// SPDX-License-Identifier: Apache-2.0
// Negative log-likelihood in bits/dim through the probability-flow ODE (Song et al. 2021).
#include "likelihood.h"

#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "dormand_prince.h"
#include "ode_sampler.h"

namespace difflab::plugins {

namespace {

constexpr double pi = 3.14159265358979323846;

double dot(const tensor& a, const tensor& b) {
    const std::vector<float> x = a.to_vector(), y = b.to_vector();
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) sum += static_cast<double>(x[i]) * y[i];
    return sum;
}

tensor scalar_part(double value) {
    return tensor::from_vector({1}, {static_cast<float>(value)});
}

void validate(const likelihood_options& o, const tensor& x) {
    auto fail = [](const std::string& message) { throw config_error("likelihood: " + message); };
    if (o.probe != "rademacher" && o.probe != "gaussian")
        fail(fmt::format("probe '{}' is not known; use rademacher or gaussian", o.probe));
    if (o.divergence != "auto" && o.divergence != "autograd" && o.divergence != "finite_difference")
        fail(fmt::format("divergence '{}' is not known; use auto, autograd or finite_difference", o.divergence));
    if (o.probes < 1) fail(fmt::format("probes ({}) must be at least 1", o.probes));
    if (!(o.rtol > 0) || !(o.atol > 0)) fail(fmt::format("rtol ({}) and atol ({}) must be positive", o.rtol, o.atol));
    if (!x.defined() || x.dim() < 1 || x.numel() == 0) fail("x must be a non-empty batch with the samples along dim 0");
}

/// The K Hutchinson probes of one sample (a batch of one).
std::vector<tensor> probes_for(const tensor& row, const likelihood_options& o, std::uint64_t index) {
    const std::uint64_t purpose = random_purpose("likelihood/probe");
    std::vector<tensor> z;
    for (std::int64_t k = 0; k < o.probes; ++k) {
        const auto step = static_cast<std::uint64_t>(k);
        if (o.probe == "gaussian") {
            z.push_back(randn(row.shape(), o.seed, purpose, index, step));
            continue;
        }
        std::vector<float> signs = rand(row.shape(), o.seed, purpose, index, step).to_vector();
        for (float& s : signs) s = s < 0.5f ? -1.0f : 1.0f;
        z.push_back(tensor::from_vector(row.shape(), signs));
    }
    return z;
}

/// NLL in nats of one sample (a batch of one) and the variance of its K integrals.
std::pair<double, double> sample_nll(const denoiser& d, const tensor& row, const likelihood_options& o,
                                     std::uint64_t index) {
    const process& p = d.diffusion_process();
    const std::vector<tensor> z = probes_for(row, o, index);
    const std::size_t count = z.size();

    // The augmented right-hand side: v and, per probe, z^T (dv/dx) z.
    const ode_function rhs = [&](double t, const ode_state& y) {
        ode_state out(1 + count);
        if (o.divergence != "finite_difference" && grad_enabled()) {
            tensor x = y[0].detach();
            x.set_requires_grad();
            // Test the denoiser's output, not v: v = f x - g^2/2 (alpha x0 - x) / sigma^2 depends on x
            // through its own terms even when x0 is cut from the graph.
            const tensor x0 = d.x0(x, t);
            const tensor v = probability_flow(p, x, x0, t);
            if (x0.requires_grad()) {
                for (std::size_t k = 0; k < count; ++k) {
                    const tensor jtz = gradients(v, {x}, z[k])[0];  // J^T z; z^T J^T z = z^T J z
                    out[1 + k] = scalar_part(jtz.defined() ? dot(jtz, z[k]) : 0.0);
                }
                out[0] = v.detach();
                return out;
            }
            if (o.divergence == "autograd")
                throw error(
                    "likelihood: the denoiser's output does not depend differentiably on x, so the "
                    "divergence cannot come from autograd; use divergence: finite_difference (or auto)");
            out[0] = v.detach();
        } else if (o.divergence == "autograd") {
            throw error("likelihood: divergence: autograd needs gradient recording; call outside a no_grad_guard");
        } else {
            no_grad_guard no_grad;
            out[0] = probability_flow(d, y[0], t);
        }
        no_grad_guard no_grad;
        const tensor& x = y[0];
        const double h = std::cbrt(std::numeric_limits<float>::epsilon()) *
                         std::max(1.0, std::sqrt(dot(x, x) / static_cast<double>(x.numel())));
        for (std::size_t k = 0; k < count; ++k) {
            const tensor step = z[k] * static_cast<float>(h);
            const tensor dv = probability_flow(d, x + step, t) - probability_flow(d, x - step, t);
            out[1 + k] = scalar_part(dot(dv, z[k]) / (2 * h));
        }
        return out;
    };

    ode_state y0{row};
    for (std::size_t k = 0; k < count; ++k) y0.push_back(tensor::zeros({1}));
    const dormand_prince_result r = dormand_prince(rhs, y0, p.t_min(), p.t_max(), {o.rtol, o.atol});

    const std::vector<float> x_T = r.y[0].to_vector();
    const double dims = static_cast<double>(x_T.size()), prior_var = p.prior_std() * p.prior_std();
    double square = 0;
    for (float v : x_T) square += static_cast<double>(v) * v;
    const double log_prior = -0.5 * dims * std::log(2 * pi * prior_var) - 0.5 * square / prior_var;
    double mean = 0;
    std::vector<double> delta(count);
    for (std::size_t k = 0; k < count; ++k) {
        delta[k] = r.y[1 + k].item();
        mean += delta[k] / static_cast<double>(count);
    }
    double variance = 0;
    if (count > 1) {
        for (double v : delta) variance += (v - mean) * (v - mean);
        variance /= static_cast<double>(count - 1);
    }
    return {-(log_prior + mean), variance};
}

}  // namespace

tensor dequantize_8bit(const tensor& x, std::uint64_t seed, std::uint64_t first_index) {
    if (!x.defined() || x.dim() < 1) throw error("dequantize_8bit: x must be a batch with samples along dim 0");
    const std::vector<float> values = x.to_vector();
    std::vector<float> u = rand(x.shape(), seed, random_purpose("likelihood/dequantize"), first_index).to_vector();
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double level = (static_cast<double>(values[i]) + 1) * 127.5;
        if (!(level >= -0.5 && level <= 255.5))
            throw error(
                fmt::format("dequantize_8bit: value {} is outside [-1, 1]; dequantization expects 8-bit data stored as "
                            "2 k / 255 - 1",
                            values[i]));
        const double k = std::min(std::max(std::round(level), 0.0), 255.0);
        u[i] = static_cast<float>((k + u[i]) / 128.0 - 1.0);
    }
    return tensor::from_vector(x.shape(), u);
}

likelihood_result negative_log_likelihood(const denoiser& d, const tensor& x, const likelihood_options& options) {
    validate(options, x);
    likelihood_result result;
    const std::int64_t start = d.evaluations();
    const std::int64_t n = x.size(0);
    const double dims = static_cast<double>(x.numel() / n);
    for (std::int64_t i = 0; i < n; ++i) {
        const std::uint64_t index = options.first_index + static_cast<std::uint64_t>(i);
        tensor row = x.slice(0, i, i + 1).contiguous();
        if (options.dequantize) row = dequantize_8bit(row, options.seed, index);
        const auto [nats, variance] = sample_nll(d, row, options, index);
        result.bits_per_dim.push_back(nats / (dims * std::log(2.0)) +
                                      (options.dequantize ? dequantization_offset_bits : 0.0));
        result.estimator_variance.push_back(variance);
    }
    result.evaluations = d.evaluations() - start;
    return result;
}

}  // namespace difflab::plugins
