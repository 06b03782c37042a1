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
#include <vector>

#include "dormand_prince.h"
#include "ode_sampler.h"

namespace difflab::plugins {

namespace {

constexpr double pi = 3.14159265358979323846;

/// Per row (along dim 0) of two equally shaped tensors: the dot product of the rows.
std::vector<double> row_dots(const tensor& a, const tensor& b) {
    const std::vector<float> x = a.to_vector(), y = b.to_vector();
    const std::size_t rows = static_cast<std::size_t>(a.size(0)), width = x.size() / rows;
    std::vector<double> sums(rows, 0.0);
    for (std::size_t i = 0; i < x.size(); ++i) sums[i / width] += static_cast<double>(x[i]) * y[i];
    return sums;
}

tensor row_values(const std::vector<double>& values) {
    std::vector<float> v(values.begin(), values.end());
    return tensor::from_vector({static_cast<std::int64_t>(v.size())}, v);
}

/// z scaled row by row: row i times scales[i].
tensor scale_rows(const tensor& z, const std::vector<double>& scales) {
    std::vector<float> v = z.to_vector();
    const std::size_t width = v.size() / scales.size();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] *= static_cast<float>(scales[i / width]);
    return tensor::from_vector(z.shape(), v);
}

void validate(const likelihood_options& o, const tensor& x) {
    auto fail = [](const std::string& message) { throw config_error("likelihood: " + message); };
    if (o.probe != "rademacher" && o.probe != "gaussian")
        fail(fmt::format("probe '{}' is not known; use rademacher or gaussian", o.probe));
    if (o.divergence != "auto" && o.divergence != "autograd" && o.divergence != "finite_difference")
        fail(fmt::format("divergence '{}' is not known; use auto, autograd or finite_difference", o.divergence));
    if (o.probes < 1) fail(fmt::format("probes ({}) must be at least 1", o.probes));
    if (o.batch_size < 1) fail(fmt::format("batch_size ({}) must be at least 1", o.batch_size));
    if (!(o.rtol > 0) || !(o.atol > 0)) fail(fmt::format("rtol ({}) and atol ({}) must be positive", o.rtol, o.atol));
    if (!x.defined() || x.dim() < 1 || x.numel() == 0) fail("x must be a non-empty batch with the samples along dim 0");
}

/// The K Hutchinson probes of the rows: row i's from the stream of first_index + i, so that a
/// sample's probes do not depend on its batch.
std::vector<tensor> probes_for(const tensor& rows, const likelihood_options& o, std::uint64_t first_index) {
    const std::uint64_t purpose = random_purpose("likelihood/probe");
    std::vector<tensor> z;
    for (std::int64_t k = 0; k < o.probes; ++k) {
        const auto step = static_cast<std::uint64_t>(k);
        if (o.probe == "gaussian") {
            z.push_back(randn(rows.shape(), o.seed, purpose, first_index, step));
            continue;
        }
        std::vector<float> signs = rand(rows.shape(), o.seed, purpose, first_index, step).to_vector();
        for (float& s : signs) s = s < 0.5f ? -1.0f : 1.0f;
        z.push_back(tensor::from_vector(rows.shape(), signs));
    }
    return z;
}

struct row_nll {
    double nats = 0;      ///< the NLL in nats
    double variance = 0;  ///< the variance of the K integrated divergence estimates
};

/// NLL in nats of each row of `rows`, integrated together as one state (one row: alone).
std::vector<row_nll> rows_nll(const denoiser& d, const tensor& rows, const likelihood_options& o,
                              std::uint64_t first_index) {
    const process& p = d.diffusion_process();
    const std::vector<tensor> z = probes_for(rows, o, first_index);
    const std::size_t count = z.size();

    // The augmented right-hand side: v and, per probe, z^T (dv/dx) z for each row. The rows do
    // not interact, so J is block diagonal and the row dots of J^T z with z are the rows' own.
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
                    out[1 + k] = jtz.defined() ? row_values(row_dots(jtz, z[k])) : tensor::zeros({x.size(0)});
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
        const double width = static_cast<double>(x.numel() / x.size(0));
        std::vector<double> h = row_dots(x, x);
        for (double& v : h) v = std::cbrt(std::numeric_limits<float>::epsilon()) * std::max(1.0, std::sqrt(v / width));
        for (std::size_t k = 0; k < count; ++k) {
            const tensor step = scale_rows(z[k], h);
            const tensor dv = probability_flow(d, x + step, t) - probability_flow(d, x - step, t);
            std::vector<double> divergence = row_dots(dv, z[k]);
            for (std::size_t i = 0; i < divergence.size(); ++i) divergence[i] /= 2 * h[i];
            out[1 + k] = row_values(divergence);
        }
        return out;
    };

    const std::int64_t n = rows.size(0);
    ode_state y0{rows};
    for (std::size_t k = 0; k < count; ++k) y0.push_back(tensor::zeros({n}));
    const dormand_prince_result r = dormand_prince(rhs, y0, p.t_min(), p.t_max(), {o.rtol, o.atol});

    const double dims = static_cast<double>(rows.numel() / n), prior_var = p.prior_std() * p.prior_std();
    const std::vector<double> squares = row_dots(r.y[0], r.y[0]);
    std::vector<std::vector<float>> deltas;
    for (std::size_t k = 0; k < count; ++k) deltas.push_back(r.y[1 + k].to_vector());
    std::vector<row_nll> out;
    for (std::int64_t i = 0; i < n; ++i) {
        const auto row = static_cast<std::size_t>(i);
        const double log_prior = -0.5 * dims * std::log(2 * pi * prior_var) - 0.5 * squares[row] / prior_var;
        double mean = 0;
        for (std::size_t k = 0; k < count; ++k) mean += deltas[k][row] / static_cast<double>(count);
        double variance = 0;
        if (count > 1) {
            for (std::size_t k = 0; k < count; ++k) variance += (deltas[k][row] - mean) * (deltas[k][row] - mean);
            variance /= static_cast<double>(count - 1);
        }
        out.push_back({-(log_prior + mean), variance});
    }
    return out;
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
    for (std::int64_t first = 0; first < n; first += options.batch_size) {
        const std::uint64_t index = options.first_index + static_cast<std::uint64_t>(first);
        tensor rows = x.slice(0, first, std::min(n, first + options.batch_size)).contiguous();
        if (options.dequantize) rows = dequantize_8bit(rows, options.seed, index);
        for (const row_nll& r : rows_nll(d, rows, options, index)) {
            result.bits_per_dim.push_back(r.nats / (dims * std::log(2.0)) +
                                          (options.dequantize ? dequantization_offset_bits : 0.0));
            result.estimator_variance.push_back(r.variance);
        }
    }
    result.evaluations = d.evaluations() - start;
    return result;
}

}  // namespace difflab::plugins
