// SPDX-License-Identifier: Apache-2.0
// SGD, Adam and AdamW with PyTorch's update formulas; EMA, gradient clipping, LR schedules.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ops_common.h"
#include "vector_clones.h"

namespace difflab::optim {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw error("" + what);
}

/// Element loops run over the raw memory of dense f32 tensors that share one layout, in
/// parallel over elements (each element is independent: no dependence on thread count).
float* values(const tensor& t) {
    return static_cast<float*>(const_cast<void*>(t.raw_data()));
}

tensor zeros_like(const tensor& like) {
    tensor t = ops_detail::empty_like(like, dtype::f32);
    t.fill_(0.0f);
    return t;
}

constexpr std::int64_t parallel_threshold = 1 << 15;

/// Calls body(begin, count) over [0, n) in fixed chunks, in parallel for large n: Adam's update
/// loop is a vector clone, which cannot hold an OpenMP loop itself.
template <class Body>
void for_chunks(std::int64_t n, Body&& body) {
    constexpr std::int64_t chunk = 1 << 14;
    const std::int64_t count = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > parallel_threshold)
    for (std::int64_t c = 0; c < count; ++c) body(c * chunk, std::min(chunk, n - c * chunk));
}

struct adam_constants {
    float b1, b2, eps, wd, step_size, bias2_sqrt, decay_factor;
    bool decoupled;
};

/// Adam's update: parameter, states and gradient are distinct dense tensors (__restrict). Its
/// sqrt and divisions make it compute-bound, so it runs as AVX-512/AVX2 clones (EMA, a plain
/// stream, measured no gain; SGD is one too). This file is compiled without errno, which kept
/// sqrt a scalar libm call, and without FMA contraction, so updates round alike on every CPU.
DIFFLAB_VECTOR_CLONES void adam_update(float* __restrict p, float* __restrict m, float* __restrict v,
                                       const float* __restrict d, std::int64_t n, const adam_constants& k) {
    const float b1 = k.b1, b2 = k.b2, eps = k.eps, wd = k.wd, step_size = k.step_size, bias2_sqrt = k.bias2_sqrt,
                decay_factor = k.decay_factor;
    const bool decoupled = k.decoupled;
    for (std::int64_t e = 0; e < n; ++e) {
        float grad = d[e];
        if (decoupled)
            p[e] *= decay_factor;
        else
            grad += wd * p[e];
        m[e] = m[e] + (1 - b1) * (grad - m[e]);  // torch: exp_avg.lerp_(grad, 1 - beta1)
        v[e] = v[e] * b2 + (1 - b2) * (grad * grad);
        const float denom = std::sqrt(v[e]) / bias2_sqrt + eps;
        p[e] -= step_size * (m[e] / denom);
    }
}

}  // namespace

// --- optimizer base ----------------------------------------------------------------------------

optimizer::optimizer(std::vector<tensor> params, float lr) : params_(std::move(params)), lr_(lr) {
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const tensor& p = params_[i];
        if (!p.defined()) fail(fmt::format("optimizer: parameter {} is undefined", i));
        if (p.type() != dtype::f32 || !ops_detail::is_dense(p))
            fail(
                fmt::format("optimizer: parameter {} is {} {}; optimizers update dense f32 parameters (keep a bf16 "
                            "copy for compute instead)",
                            i, dtype_name(p.type()), shape_text(p.shape())));
    }
    state_.resize(params_.size());
}

void optimizer::zero_grad() {
    for (tensor& p : params_) p.zero_grad();
}

tensor& optimizer::state(std::size_t i, const std::string& name) {
    for (auto& entry : state_[i])
        if (entry.first == name) return entry.second;
    state_[i].emplace_back(name, zeros_like(params_[i]));
    return state_[i].back().second;
}

bool optimizer::has_state(std::size_t i, const std::string& name) const {
    for (const auto& entry : state_[i])
        if (entry.first == name) return true;
    return false;
}

tensor optimizer::grad_of(std::size_t i) const {
    const tensor g = params_[i].grad();
    if (!g.defined()) return g;
    tensor out = ops_detail::in_layout_of(g.type() == dtype::f32 ? g : g.to(dtype::f32), params_[i]);
    return out;
}

state_dict_t optimizer::state_dict() const {
    state_dict_t out;
    for (std::size_t i = 0; i < state_.size(); ++i)
        for (const auto& [name, value] : state_[i]) out.emplace(fmt::format("{}.{}", i, name), value);
    return out;
}

void optimizer::load_state_dict(const state_dict_t& state) {
    const std::vector<std::string> names = state_names();
    std::vector<std::vector<std::pair<std::string, tensor>>> loaded(params_.size());
    for (const auto& [key, value] : state) {
        const std::size_t dot = key.find('.');
        std::size_t index = params_.size();
        if (dot != std::string::npos && dot > 0 && key.find_first_not_of("0123456789") == dot)
            index = static_cast<std::size_t>(std::stoull(key.substr(0, dot)));
        const std::string name = dot == std::string::npos ? "" : key.substr(dot + 1);
        if (index >= params_.size() || std::find(names.begin(), names.end(), name) == names.end())
            fail(fmt::format("optimizer: unexpected state key '{}'; expected '<parameter index below {}>.<{}>'", key,
                             params_.size(), fmt::join(names, "|")));
        if (!value.defined() || value.shape() != params_[index].shape())
            fail(fmt::format("optimizer: state '{}' has shape {} but parameter {} has {}", key,
                             value.defined() ? shape_text(value.shape()) : "undefined", index,
                             shape_text(params_[index].shape())));
        tensor copy = zeros_like(params_[index]);
        copy.copy_(value);
        loaded[index].emplace_back(name, copy);
    }
    state_ = std::move(loaded);
}

// --- SGD ---------------------------------------------------------------------------------------

sgd::sgd(std::vector<tensor> params, const sgd_options& options)
    : optimizer(std::move(params), options.lr), options_(options) {
    if (options.nesterov && (options.momentum <= 0 || options.dampening != 0))
        fail("sgd: nesterov momentum needs momentum > 0 and dampening 0");
}

void sgd::step() {
    no_grad_guard guard;
    const float lr = lr_, momentum = options_.momentum, dampening = options_.dampening, wd = options_.weight_decay;
    const bool nesterov = options_.nesterov;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const tensor g = grad_of(i);
        if (!g.defined()) continue;
        const bool first = momentum != 0 && !has_state(i, "momentum_buffer");
        float* buf = momentum != 0 ? values(state(i, "momentum_buffer")) : nullptr;
        float* p = values(params_[i]);
        const float* d = values(g);
        const std::int64_t n = params_[i].numel();
#pragma omp parallel for schedule(static) if (n > parallel_threshold)
        for (std::int64_t e = 0; e < n; ++e) {
            float dp = d[e] + wd * p[e];
            if (buf != nullptr) {
                // torch: the first step copies d_p into the buffer (no dampening).
                buf[e] = first ? dp : momentum * buf[e] + (1 - dampening) * dp;
                dp = nesterov ? dp + momentum * buf[e] : buf[e];
            }
            p[e] -= lr * dp;
        }
    }
    ++steps_;
}

// --- Adam / AdamW ------------------------------------------------------------------------------

adam::adam(std::vector<tensor> params, const adam_options& options) : adam(std::move(params), options, false) {}

adam::adam(std::vector<tensor> params, const adam_options& options, bool decoupled)
    : optimizer(std::move(params), options.lr), options_(options), decoupled_(decoupled) {
    if (!(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1))
        fail(fmt::format("adam: betas ({}, {}) must lie in [0, 1)", options.beta1, options.beta2));
}

void adam::step() {
    no_grad_guard guard;
    ++steps_;
    const float lr = lr_, b1 = options_.beta1, b2 = options_.beta2, eps = options_.eps, wd = options_.weight_decay;
    // torch: step_size = lr / (1 - b1^t); denom = sqrt(v) / sqrt(1 - b2^t) + eps.
    const double t = static_cast<double>(steps_);
    const float bias1 = static_cast<float>(1 - std::pow(static_cast<double>(b1), t));
    const float bias2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(static_cast<double>(b2), t)));
    const float step_size = lr / bias1;
    // torch computes 1 - lr * weight_decay in double (Python floats), then multiplies in f32.
    const float decay_factor = static_cast<float>(1.0 - static_cast<double>(lr) * static_cast<double>(wd));
    const adam_constants k{b1, b2, eps, wd, step_size, bias2_sqrt, decay_factor, decoupled_};
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const tensor g = grad_of(i);
        if (!g.defined()) continue;
        float* m = values(state(i, "exp_avg"));
        float* v = values(state(i, "exp_avg_sq"));
        float* p = values(params_[i]);
        const float* d = values(g);
        for_chunks(params_[i].numel(),
                   [&](std::int64_t at, std::int64_t count) { adam_update(p + at, m + at, v + at, d + at, count, k); });
    }
}

adamw::adamw(std::vector<tensor> params, const adam_options& options) : adam(std::move(params), options, true) {}

// --- EMA ---------------------------------------------------------------------------------------

ema::ema(const module& model, float decay) : decay_(decay) {
    if (!(decay >= 0 && decay <= 1)) fail(fmt::format("ema: decay {} is outside [0, 1]", decay));
    no_grad_guard guard;
    for (auto& [name, p] : model.named_parameters()) shadow_.emplace_back(name, p.detach().clone());
}

void ema::set_decay(float decay) {
    if (!(decay >= 0 && decay <= 1)) fail(fmt::format("ema: decay {} is outside [0, 1]", decay));
    decay_ = decay;
}

void ema::update(const module& model) {
    no_grad_guard guard;
    const auto params = model.named_parameters();
    if (params.size() != shadow_.size())
        fail(fmt::format("ema: the model has {} parameters but the average holds {}", params.size(), shadow_.size()));
    const float decay = decay_;
    for (std::size_t i = 0; i < params.size(); ++i) {
        tensor& s = shadow_[i].second;
        if (params[i].first != shadow_[i].first || params[i].second.shape() != s.shape())
            fail(fmt::format("ema: parameter {} is '{}' {} but the average has '{}' {}", i, params[i].first,
                             shape_text(params[i].second.shape()), shadow_[i].first, shape_text(s.shape())));
        const tensor p = ops_detail::in_layout_of(params[i].second, s);
        float* sv = values(s);
        const float* pv = values(p);
        const std::int64_t n = s.numel();
#pragma omp parallel for schedule(static) if (n > parallel_threshold)
        for (std::int64_t e = 0; e < n; ++e) sv[e] = decay * sv[e] + (1 - decay) * pv[e];
    }
}

void ema::copy_to(module& model) const {
    state_dict_t state = model.state_dict();
    for (const auto& [name, value] : shadow_) state[name] = value;
    model.load_state_dict(state);
}

state_dict_t ema::state_dict() const {
    state_dict_t out;
    for (const auto& [name, value] : shadow_) out.emplace(name, value);
    return out;
}

void ema::load_state_dict(const state_dict_t& state) {
    for (const auto& [name, value] : shadow_)
        if (state.count(name) == 0) fail(fmt::format("ema: key '{}' is missing from the state", name));
    if (state.size() != shadow_.size())
        for (const auto& entry : state) {
            bool known = false;
            for (const auto& [name, value] : shadow_) known = known || name == entry.first;
            if (!known) fail(fmt::format("ema: unexpected key '{}'", entry.first));
        }
    no_grad_guard guard;
    for (auto& [name, value] : shadow_) {
        const tensor& from = state.at(name);
        if (from.shape() != value.shape())
            fail(fmt::format("ema: key '{}' has shape {} in the state but {} in the average", name,
                             shape_text(from.shape()), shape_text(value.shape())));
        value.copy_(from);
    }
}

// --- gradient clipping -------------------------------------------------------------------------

float clip_grad_norm(const std::vector<tensor>& params, float max_norm) {
    no_grad_guard guard;
    double total = 0;
    std::vector<tensor> grads;
    for (const tensor& p : params) {
        const tensor g = p.grad();
        if (!g.defined()) continue;
        grads.push_back(g);
        // Sums in double, in element order: reproducible and accurate for large models.
        for (float v : g.to_vector()) total += static_cast<double>(v) * v;
    }
    const double norm = std::sqrt(total);
    // torch: clip_coef = max_norm / (norm + 1e-6), clamped to at most 1, always applied.
    const double coef = std::min(1.0, static_cast<double>(max_norm) / (norm + 1e-6));
    if (coef < 1.0)
        for (tensor p : params) {
            const tensor g = p.grad();
            if (g.defined()) p.set_grad(mul(g, static_cast<float>(coef)));
        }
    return static_cast<float>(norm);
}

// --- schedules ---------------------------------------------------------------------------------

float lr_schedule::at(std::int64_t step) const {
    if (step < 0) fail(fmt::format("lr_schedule: step {} is negative", step));
    if (warmup_steps > 0 && step < warmup_steps)
        return static_cast<float>(base_lr * (static_cast<double>(step + 1) / static_cast<double>(warmup_steps)));
    switch (type) {
        case kind::constant:
        case kind::warmup:
            return static_cast<float>(base_lr);
        case kind::cosine: {
            const std::int64_t span = total_steps - warmup_steps;
            if (span <= 0)
                fail(fmt::format("lr_schedule: cosine needs total_steps ({}) above warmup_steps ({})", total_steps,
                                 warmup_steps));
            const double t = static_cast<double>(std::min(step - warmup_steps, span)) / static_cast<double>(span);
            const double pi = 3.14159265358979323846;
            return static_cast<float>(min_lr + (base_lr - min_lr) * 0.5 * (1 + std::cos(pi * t)));
        }
    }
    return static_cast<float>(base_lr);
}

}  // namespace difflab::optim
