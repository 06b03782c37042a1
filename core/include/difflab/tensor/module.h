// SPDX-License-Identifier: Apache-2.0
// Modules: named parameters and submodules, train/eval mode, state dicts (torch.nn.Module style).
#pragma once

#include <difflab/tensor/tensor.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace difflab {

/// Named tensors of a model ("blocks.0.conv.weight" -> tensor), as saved in checkpoints.
using state_dict_t = std::map<std::string, tensor>;

/// A network part that owns parameters (trained), buffers (saved, not trained) and named
/// submodules, following torch.nn.Module: names join with dots, the mode propagates to
/// submodules, and state dicts hold every parameter and buffer under its full name.
/// Subclasses register what they own in their constructor and keep the returned handles
/// (handles alias: loading a state dict writes into the same memory).
class module {
public:
    module() = default;
    virtual ~module() = default;
    module(const module&) = delete;
    module& operator=(const module&) = delete;

    /// Parameters of this module and its submodules, depth-first in registration order.
    std::vector<std::pair<std::string, tensor>> named_parameters() const;
    std::vector<tensor> parameters() const;
    std::vector<std::pair<std::string, tensor>> named_buffers() const;
    /// Direct submodules in registration order.
    const std::vector<std::pair<std::string, std::shared_ptr<module>>>& children() const { return children_; }

    /// Training mode (dropout active); propagates to submodules.
    void train(bool on = true);
    void eval() { train(false); }
    bool training() const { return training_; }

    /// Every parameter and buffer under its full name; the tensors alias the module's own.
    state_dict_t state_dict() const;
    /// Copies values into the parameters and buffers (converting dtype). Each key must exist
    /// with exactly the model's shape; a missing or unexpected key is an error naming it
    /// (unexpected keys are skipped when !strict).
    void load_state_dict(const state_dict_t& state, bool strict = true);

    /// Drops the gradients of every parameter.
    void zero_grad();
    /// Number of parameter values.
    std::int64_t parameter_count() const;

protected:
    /// Registers a trainable tensor (marked requires_grad) and returns the handle to keep.
    tensor register_parameter(const std::string& name, tensor value);
    /// Registers a saved, untrained tensor (running statistics, fixed tables).
    tensor register_buffer(const std::string& name, tensor value);
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
        add_child(name, child);
        return child;
    }

private:
    void add_child(const std::string& name, std::shared_ptr<module> child);
    void check_new_name(const std::string& name) const;
    void collect(const std::string& prefix, bool buffers, std::vector<std::pair<std::string, tensor>>& out) const;

    std::vector<std::pair<std::string, tensor>> parameters_;
    std::vector<std::pair<std::string, tensor>> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<module>>> children_;
    bool training_ = true;
};

/// A module mapping one tensor to one tensor, so it can be chained in a sequential.
class unary_module : public module {
public:
    virtual tensor forward(const tensor& x) = 0;
    tensor operator()(const tensor& x) { return forward(x); }
};

}  // namespace difflab
