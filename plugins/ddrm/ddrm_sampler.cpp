// SPDX-License-Identifier: Apache-2.0
// The DDRM sampler (Kawar, Elad, Ermon & Song 2022).
#include "ddrm_sampler.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace difflab::plugins {

param_spec<ddrm_sampler::options> ddrm_sampler::params() {
    param_spec<options> spec{
        "DDRM (Kawar et al. 2022): restoration from the task's linear measurement in the spectral space of its "
        "SVD, with an unconditional denoiser."};
    add_grid_options(spec, "Number of denoising steps (= network evaluations; DDRM-20 is the paper's).");
    spec.add(&options::eta, "eta", "Stochasticity of the unobserved and the less-noisy-than-y coefficients.",
             closed_range(0.0, 1.0));
    spec.add(&options::eta_b, "eta_b",
             "Weight of the measurement on the noisier-than-y coefficients (1: their mean is the measurement's).",
             closed_range(0.0, 1.0));
    return spec;
}

ddrm_sampler::ddrm_sampler(const options& opts, build_context&) : opts_(opts) {}

std::vector<double> ddrm_sampler::times(const process& p, double t_start) const {
    return time_grid(p, opts_.steps, opts_.spacing, t_start);
}

namespace {

/// One restoration: the observation in spectral coordinates, computed once, and the DDRM update
/// on the coefficients c = V^T (x / alpha), written per coefficient in double precision (the
/// network evaluation dominates; the spectral maps are the measurement's).
class ddrm_run final : public sampler_run {
public:
    ddrm_run(const denoiser& d, const ddrm_sampler::options& o, const sampling_context& ctx)
        : d_(d), o_(o), ctx_(ctx), h_(*ctx.observed->h), sigma_y_(h_.noise_std()) {
        const std::vector<double>& s = h_.singular_values();
        const double largest = s.empty() ? 0.0 : *std::max_element(s.begin(), s.end());
        dimension_ = h_.example_size();
        singular_.assign(static_cast<std::size_t>(dimension_), 0.0);
        for (std::size_t i = 0; i < s.size(); ++i) singular_[i] = s[i] > 1e-10 * largest ? s[i] : 0.0;
        const tensor& y = ctx.observed->y;
        rows_ = y.shape().at(0);
        const std::vector<float> projected = h_.u_transpose(y).to_vector();
        const auto m = static_cast<std::size_t>(h_.measured_size());
        y_bar_.assign(static_cast<std::size_t>(rows_ * dimension_), 0.0);
        for (std::size_t n = 0; n < static_cast<std::size_t>(rows_); ++n)
            for (std::size_t i = 0; i < m; ++i)
                if (singular_[i] > 0) y_bar_[n * singular_.size() + i] = projected[n * m + i] / singular_[i];
    }

    tensor step(const tensor& x, const path_step& step, std::uint64_t index) override {
        const tensor state = started(x, step.from);
        const tensor x0 = d_.x0(state, step.from);
        return advance(state, x0, step.from, step.to, index) * d_.diffusion_process().alpha(step.to);
    }
    tensor finish(const tensor& x, double t, std::uint64_t index) override {
        const tensor state = started(x, t);
        return advance(state, d_.x0(state, t), t, -1, index);
    }

private:
    bool observed(std::size_t i) const { return singular_[i] > 0; }

    /// The state with its observed coefficients drawn from q(x_t | y) on the first step.
    tensor started(const tensor& x, double t) {
        check_rows(x);
        if (started_) return x;
        started_ = true;
        const process& p = d_.diffusion_process();
        const double sigma = noise_level(p, t), alpha = p.alpha(t);
        std::vector<float> c = h_.v_transpose(x * (1.0 / alpha)).to_vector();
        const std::vector<float> z = h_.v_transpose(ctx_.draw(x, "ddrm/start", 0)).to_vector();
        for_each_coefficient([&](std::size_t k, std::size_t i) {
            const double floor = observed(i) ? sigma_y_ / singular_[i] : 0.0;
            if (observed(i) && sigma >= floor)
                c[k] = static_cast<float>(y_bar_[k] + std::sqrt(sigma * sigma - floor * floor) * z[k]);
        });
        return h_.v(tensor::from_vector({rows_, dimension_}, c)).reshape(x.shape()) * alpha;
    }

    /// x / alpha at time `next` (clean data when next < 0) from the state x at t and its
    /// denoised estimate x0: the three cases of the class comment, coefficient by coefficient.
    tensor advance(const tensor& x, const tensor& x0, double t, double next, std::uint64_t index) const {
        const process& p = d_.diffusion_process();
        const double sigma = noise_level(p, t), sigma_next = next < 0 ? 0.0 : noise_level(p, next);
        const std::vector<float> c = h_.v_transpose(x * (1.0 / p.alpha(t))).to_vector();
        const std::vector<float> c0 = h_.v_transpose(x0).to_vector();
        const std::vector<float> z =
            sigma_next > 0 ? h_.v_transpose(ctx_.noise_like(x, index)).to_vector() : std::vector<float>(c.size(), 0.0f);
        const double eta = o_.eta, eta_b = o_.eta_b, kept = std::sqrt(1 - eta * eta);
        std::vector<float> out(c.size());
        for_each_coefficient([&](std::size_t k, std::size_t i) {
            double v = 0;
            if (!observed(i)) {
                v = c0[k] + kept * sigma_next * (c[k] - c0[k]) / sigma + eta * sigma_next * z[k];
            } else if (sigma_next * singular_[i] < sigma_y_) {
                v = c0[k] + kept * sigma_next * (y_bar_[k] - c0[k]) * singular_[i] / sigma_y_ + eta * sigma_next * z[k];
            } else {
                const double floor = eta_b * sigma_y_ / singular_[i];
                v = eta_b * y_bar_[k] + (1 - eta_b) * c0[k] +
                    std::sqrt(std::max(sigma_next * sigma_next - floor * floor, 0.0)) * z[k];
            }
            out[k] = static_cast<float>(v);
        });
        return h_.v(tensor::from_vector({rows_, dimension_}, out)).reshape(x.shape());
    }

    /// f(k, i) for every coefficient: k its position in the [rows, D] table, i its index in V^T.
    template <class F>
    void for_each_coefficient(F&& f) const {
        const auto d = static_cast<std::size_t>(dimension_);
        for (std::size_t n = 0; n < static_cast<std::size_t>(rows_); ++n)
            for (std::size_t i = 0; i < d; ++i) f(n * d + i, i);
    }

    void check_rows(const tensor& x) const {
        if (x.shape().empty() || x.shape()[0] != rows_)
            throw std::invalid_argument(fmt::format("ddrm: the observation has {} rows but the batch has {} samples",
                                                    rows_, x.shape().empty() ? 0 : x.shape()[0]));
    }

    const denoiser& d_;
    const ddrm_sampler::options& o_;
    const sampling_context& ctx_;
    const measurement& h_;
    const double sigma_y_;
    std::int64_t rows_ = 0, dimension_ = 0;
    std::vector<double> singular_;  ///< D values: s_i where observed, 0 elsewhere
    std::vector<double> y_bar_;     ///< [rows, D]: (U^T y)_i / s_i where observed, 0 elsewhere
    bool started_ = false;
};

}  // namespace

std::unique_ptr<sampler_run> ddrm_sampler::start(const denoiser& d, const sampling_context& ctx) const {
    if (!ctx.observed || !ctx.observed->h || !ctx.observed->h->bound())
        throw config_error(
            "sampler 'ddrm' restores from a measurement and this task gives none; use it in a task that measures "
            "its images (task 'restoration' with method: ddrm), or choose another sampler");
    return std::make_unique<ddrm_run>(d, opts_, ctx);
}

}  // namespace difflab::plugins
