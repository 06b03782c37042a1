// SPDX-License-Identifier: Apache-2.0
// Optimizers (SGD, Adam, AdamW), EMA of parameters, gradient clipping, learning-rate schedules.
#pragma once

#include <difflab/tensor/module.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::optim {

/// Updates a fixed list of f32 parameters from their .grad (parameters without a gradient
/// are skipped, as in PyTorch). The update formulas are PyTorch's, element for element.
class optimizer {
public:
    explicit optimizer(std::vector<tensor> params, float lr);
    virtual ~optimizer() = default;
    optimizer(const optimizer&) = delete;
    optimizer& operator=(const optimizer&) = delete;

    /// One update with the current learning rate; counts the step.
    virtual void step() = 0;
    void zero_grad();

    float learning_rate() const { return lr_; }
    void set_learning_rate(float lr) { lr_ = lr; }
    /// Steps taken so far (Adam's bias correction uses it); checkpoints store it beside the state.
    std::int64_t step_count() const { return steps_; }
    void set_step_count(std::int64_t steps) { steps_ = steps; }
    const std::vector<tensor>& params() const { return params_; }

    /// Per-parameter state as "<index>.<name>" ("0.exp_avg", "3.momentum_buffer"); only
    /// buffers that exist yet are listed. The step count is separate (step_count()).
    state_dict_t state_dict() const;
    /// Restores the state; shapes must match the parameters, unknown keys are errors.
    void load_state_dict(const state_dict_t& state);

protected:
    /// The named state buffer of parameter i, created zero on first use.
    tensor& state(std::size_t i, const std::string& name);
    bool has_state(std::size_t i, const std::string& name) const;
    /// Parameter i's gradient in the parameter's own memory layout (undefined if none).
    tensor grad_of(std::size_t i) const;
    /// The state buffer names this optimizer uses.
    virtual std::vector<std::string> state_names() const = 0;

    std::vector<tensor> params_;
    float lr_;
    std::int64_t steps_ = 0;

private:
    std::vector<std::vector<std::pair<std::string, tensor>>> state_;
};

struct sgd_options {
    float lr = 1e-2f;
    float momentum = 0;
    float dampening = 0;
    float weight_decay = 0;
    bool nesterov = false;
};

/// Stochastic gradient descent with momentum and L2 weight decay (torch.optim.SGD).
class sgd : public optimizer {
public:
    sgd(std::vector<tensor> params, const sgd_options& options);
    void step() override;

private:
    std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }
    sgd_options options_;
};

struct adam_options {
    float lr = 1e-3f;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0;  ///< Adam: L2 added to the gradient; AdamW: decoupled decay
};

/// Adam (Kingma & Ba 2015) with bias correction, as torch.optim.Adam.
class adam : public optimizer {
public:
    adam(std::vector<tensor> params, const adam_options& options);
    void step() override;

protected:
    adam(std::vector<tensor> params, const adam_options& options, bool decoupled);

private:
    std::vector<std::string> state_names() const override { return {"exp_avg", "exp_avg_sq"}; }
    adam_options options_;
    bool decoupled_;
};

/// AdamW (Loshchilov & Hutter 2019): weight decay applied to the parameters, not the
/// gradient (torch.optim.AdamW; its default weight_decay is 1e-2).
class adamw : public adam {
public:
    adamw(std::vector<tensor> params, const adam_options& options);
};

/// Exponential moving average of a model's parameters (the weights diffusion models sample
/// with): shadow = decay * shadow + (1 - decay) * parameter after each update.
class ema {
public:
    ema(const module& model, float decay);
    void update(const module& model);
    /// Writes the averaged weights into `model` (same architecture).
    void copy_to(module& model) const;
    float decay() const { return decay_; }
    /// Changes the decay for the next updates (a warm-up schedule), in [0, 1].
    void set_decay(float decay);
    /// The averaged parameters under the model's parameter names.
    state_dict_t state_dict() const;
    void load_state_dict(const state_dict_t& state);

private:
    std::vector<std::pair<std::string, tensor>> shadow_;
    float decay_;
};

/// Scales all gradients so that their joint L2 norm is at most max_norm
/// (torch.nn.utils.clip_grad_norm_); returns the norm before clipping.
float clip_grad_norm(const std::vector<tensor>& params, float max_norm);

/// A learning rate per step: constant, linear warm-up, or cosine decay (Loshchilov & Hutter
/// 2017, without restarts; optionally after a warm-up). Steps count from 0. Computed in double
/// and rounded once to float.
struct lr_schedule {
    enum class kind { constant, warmup, cosine };
    kind type = kind::constant;
    double base_lr = 1e-3;
    std::int64_t warmup_steps = 0;  ///< lr rises linearly: base * (step + 1) / warmup_steps
    std::int64_t total_steps = 0;   ///< cosine: reaches min_lr at this step
    double min_lr = 0;

    float at(std::int64_t step) const;
};

}  // namespace difflab::optim
