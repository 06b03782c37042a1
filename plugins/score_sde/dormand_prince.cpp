// SPDX-License-Identifier: Apache-2.0
// Adaptive Dormand-Prince 5(4) integration (Dormand & Prince 1980), step control as scipy's RK45.
#include "dormand_prince.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

namespace difflab::plugins {

namespace {

// The Butcher tableau of the pair (Dormand & Prince 1980, table 2; as in scipy's RK45).
constexpr std::array<double, 6> c_nodes{0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0};
constexpr std::array<std::array<double, 5>, 6> a_matrix{{
    {0, 0, 0, 0, 0},
    {1.0 / 5, 0, 0, 0, 0},
    {3.0 / 40, 9.0 / 40, 0, 0, 0},
    {44.0 / 45, -56.0 / 15, 32.0 / 9, 0, 0},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729, 0},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
}};
/// Weights of the 5th-order solution (stage 7 has weight 0: it is F at the new point).
constexpr std::array<double, 6> b_weights{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84};
/// 5th- minus 4th-order weights over all 7 stages: h * sum e_i k_i estimates the local error.
constexpr std::array<double, 7> e_weights{-71.0 / 57600,    0,           71.0 / 16695, -71.0 / 1920,
                                          17253.0 / 339200, -22.0 / 525, 1.0 / 40};

constexpr double safety = 0.9, min_factor = 0.2, max_factor = 10.0;
constexpr double error_exponent = -1.0 / 5;  // -1 / (order of the error estimate + 1)

using vec = std::vector<double>;

/// Flattens a state into doubles and back, remembering each part's shape.
class state_layout {
public:
    explicit state_layout(const ode_state& y) {
        for (const tensor& part : y) {
            if (!part.defined()) throw error("dormand_prince: a part of the initial state is undefined");
            shapes_.push_back(part.shape());
            sizes_.push_back(static_cast<std::size_t>(part.numel()));
            total_ += sizes_.back();
        }
    }

    vec flatten(const ode_state& y, const char* what) const {
        if (y.size() != shapes_.size())
            throw error(
                fmt::format("dormand_prince: {} has {} parts, the state has {}", what, y.size(), shapes_.size()));
        vec out;
        out.reserve(total_);
        for (std::size_t i = 0; i < y.size(); ++i) {
            if (!y[i].defined() || static_cast<std::size_t>(y[i].numel()) != sizes_[i])
                throw error(fmt::format("dormand_prince: part {} of {} has {} values, the state part has {}", i, what,
                                        y[i].defined() ? y[i].numel() : 0, sizes_[i]));
            const std::vector<float> values = y[i].to_vector();
            out.insert(out.end(), values.begin(), values.end());
        }
        return out;
    }

    ode_state unflatten(const vec& y) const {
        ode_state out;
        std::size_t at = 0;
        for (std::size_t i = 0; i < shapes_.size(); ++i) {
            std::vector<float> values(sizes_[i]);
            for (std::size_t j = 0; j < sizes_[i]; ++j) values[j] = static_cast<float>(y[at + j]);
            at += sizes_[i];
            out.push_back(tensor::from_vector(shapes_[i], values));
        }
        return out;
    }

    std::size_t total() const { return total_; }

private:
    std::vector<shape_t> shapes_;
    std::vector<std::size_t> sizes_;
    std::size_t total_ = 0;
};

/// Root mean square of v_i / scale_i (0 for an empty state).
double rms_scaled(const vec& v, const vec& scale) {
    if (v.empty()) return 0;
    double sum = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const double r = v[i] / scale[i];
        sum += r * r;
    }
    return std::sqrt(sum / static_cast<double>(v.size()));
}

}  // namespace

dormand_prince_result dormand_prince(const ode_function& f, const ode_state& y0, double t0, double t1,
                                     const dormand_prince_options& options) {
    if (!(options.rtol > 0) || !(options.atol > 0))
        throw error(
            fmt::format("dormand_prince: rtol ({}) and atol ({}) must be positive", options.rtol, options.atol));
    const state_layout layout(y0);
    dormand_prince_result result;
    vec y = layout.flatten(y0, "the initial state");
    if (t0 == t1) {
        result.y = layout.unflatten(y);
        return result;
    }
    const std::size_t n = layout.total();
    const double direction = t1 > t0 ? 1.0 : -1.0;
    const double rtol = options.rtol, atol = options.atol;
    auto evaluate = [&](double t, const vec& state) {
        ++result.evaluations;
        return layout.flatten(f(t, layout.unflatten(state)), "F(t, y)");
    };

    // Initial step (scipy's select_initial_step with the error estimate's order 4): a step
    // whose Euler error is about 0.01 in the scaled norm, from the second derivative estimated
    // with one extra evaluation.
    std::array<vec, 7> k;
    k[0] = evaluate(t0, y);
    const double interval = std::abs(t1 - t0);
    double h_abs = 0;
    {
        vec scale(n);
        for (std::size_t i = 0; i < n; ++i) scale[i] = atol + std::abs(y[i]) * rtol;
        const double d0 = rms_scaled(y, scale), d1 = rms_scaled(k[0], scale);
        const double h0 = std::min(d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1, interval);
        vec y1(n);
        for (std::size_t i = 0; i < n; ++i) y1[i] = y[i] + h0 * direction * k[0][i];
        const vec f1 = evaluate(t0 + h0 * direction, y1);
        vec change(n);
        for (std::size_t i = 0; i < n; ++i) change[i] = f1[i] - k[0][i];
        const double d2 = rms_scaled(change, scale) / h0;
        const double h1 =
            d1 <= 1e-15 && d2 <= 1e-15 ? std::max(1e-6, h0 * 1e-3) : std::pow(0.01 / std::max(d1, d2), 1.0 / 5);
        h_abs = std::min({100 * h0, h1, interval});
    }

    double t = t0;
    vec stage(n), y_new(n), error_estimate(n), scale(n);
    while (direction * (t1 - t) > 0) {
        const double min_step =
            10 * std::abs(std::nextafter(t, direction * std::numeric_limits<double>::infinity()) - t);
        h_abs = std::max(h_abs, min_step);
        bool rejected = false;
        for (;;) {
            if (h_abs < min_step)
                throw error(fmt::format(
                    "dormand_prince: the step size fell below {:.3g} at t = {:.9g} after {} evaluations; the "
                    "right-hand side is too stiff for an explicit method or returns non-finite values",
                    min_step, t, result.evaluations));
            double t_new = t + h_abs * direction;
            if (direction * (t_new - t1) > 0) t_new = t1;
            const double h = t_new - t;
            h_abs = std::abs(h);
            for (std::size_t s = 1; s < 6; ++s) {
                for (std::size_t i = 0; i < n; ++i) {
                    double sum = 0;
                    for (std::size_t j = 0; j < s; ++j) sum += a_matrix[s][j] * k[j][i];
                    stage[i] = y[i] + h * sum;
                }
                k[s] = evaluate(t + c_nodes[s] * h, stage);
            }
            for (std::size_t i = 0; i < n; ++i) {
                double sum = 0;
                for (std::size_t j = 0; j < 6; ++j) sum += b_weights[j] * k[j][i];
                y_new[i] = y[i] + h * sum;
            }
            k[6] = evaluate(t_new, y_new);
            for (std::size_t i = 0; i < n; ++i) {
                double sum = 0;
                for (std::size_t j = 0; j < 7; ++j) sum += e_weights[j] * k[j][i];
                error_estimate[i] = h * sum;
                scale[i] = atol + std::max(std::abs(y[i]), std::abs(y_new[i])) * rtol;
            }
            const double norm = rms_scaled(error_estimate, scale);
            if (norm <= 1) {
                double factor = norm == 0 ? max_factor : std::min(max_factor, safety * std::pow(norm, error_exponent));
                if (rejected) factor = std::min(1.0, factor);
                h_abs *= factor;
                ++result.accepted;
                t = t_new;
                y.swap(y_new);
                k[0].swap(k[6]);  // first same as last
                break;
            }
            // Also taken for a NaN norm: shrink until F is finite or the step underflows.
            h_abs *= std::isfinite(norm) ? std::max(min_factor, safety * std::pow(norm, error_exponent)) : min_factor;
            rejected = true;
            ++result.rejected;
        }
    }
    result.y = layout.unflatten(y);
    return result;
}

}  // namespace difflab::plugins
