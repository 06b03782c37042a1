// SPDX-License-Identifier: Apache-2.0
// The module base: registration, traversal by dotted names, train/eval, state dicts.
#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/module.h>
#include <fmt/format.h>

#include <set>

namespace difflab {

namespace {
[[noreturn]] void fail(const std::string& what) {
    throw error("" + what);
}
}  // namespace

void module::check_new_name(const std::string& name) const {
    if (name.empty() || name.find('.') != std::string::npos)
        fail(fmt::format("module: name '{}' must be non-empty and contain no '.'", name));
    auto taken = [&](const auto& list) {
        for (const auto& entry : list)
            if (entry.first == name) return true;
        return false;
    };
    if (taken(parameters_) || taken(buffers_) || taken(children_))
        fail(
            fmt::format("module: name '{}' is registered twice; give each parameter, buffer and submodule its own "
                        "name",
                        name));
}

tensor module::register_parameter(const std::string& name, tensor value) {
    check_new_name(name);
    if (!value.defined()) fail(fmt::format("module: parameter '{}' is undefined", name));
    value.set_requires_grad(true);
    parameters_.emplace_back(name, value);
    return value;
}

tensor module::register_buffer(const std::string& name, tensor value) {
    check_new_name(name);
    if (!value.defined()) fail(fmt::format("module: buffer '{}' is undefined", name));
    buffers_.emplace_back(name, value);
    return value;
}

void module::add_child(const std::string& name, std::shared_ptr<module> child) {
    check_new_name(name);
    if (!child) fail(fmt::format("module: submodule '{}' is null", name));
    child->train(training_);
    children_.emplace_back(name, std::move(child));
}

void module::collect(const std::string& prefix, bool buffers, std::vector<std::pair<std::string, tensor>>& out) const {
    for (const auto& [name, value] : buffers ? buffers_ : parameters_) out.emplace_back(prefix + name, value);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

std::vector<std::pair<std::string, tensor>> module::named_parameters() const {
    std::vector<std::pair<std::string, tensor>> out;
    collect("", false, out);
    return out;
}

std::vector<tensor> module::parameters() const {
    std::vector<tensor> out;
    for (auto& entry : named_parameters()) out.push_back(entry.second);
    return out;
}

std::vector<std::pair<std::string, tensor>> module::named_buffers() const {
    std::vector<std::pair<std::string, tensor>> out;
    collect("", true, out);
    return out;
}

void module::train(bool on) {
    training_ = on;
    for (auto& entry : children_) entry.second->train(on);
}

state_dict_t module::state_dict() const {
    state_dict_t state;
    for (auto& [name, value] : named_parameters()) state.emplace(name, value);
    for (auto& [name, value] : named_buffers()) state.emplace(name, value);
    return state;
}

void module::load_state_dict(const state_dict_t& state, bool strict) {
    state_dict_t own = state_dict();
    // Check everything before writing anything: a failed load leaves the model unchanged.
    for (const auto& [name, value] : own) {
        auto it = state.find(name);
        if (it == state.end())
            fail(
                fmt::format("load_state_dict: key '{}' ({}) is missing from the state; it was saved from a "
                            "different model",
                            name, shape_text(value.shape())));
        if (!it->second.defined()) fail(fmt::format("load_state_dict: key '{}' holds an undefined tensor", name));
        if (it->second.shape() != value.shape())
            fail(fmt::format("load_state_dict: key '{}' has shape {} in the state but {} in the model", name,
                             shape_text(it->second.shape()), shape_text(value.shape())));
    }
    if (strict)
        for (const auto& entry : state)
            if (own.count(entry.first) == 0)
                fail(
                    fmt::format("load_state_dict: unexpected key '{}' {} (the model has no such parameter or buffer); "
                                "load with strict = false to ignore it",
                                entry.first, shape_text(entry.second.shape())));
    no_grad_guard guard;
    for (auto& [name, value] : own) value.copy_(state.at(name));
}

void module::zero_grad() {
    for (tensor& p : parameters()) p.zero_grad();
}

std::int64_t module::parameter_count() const {
    std::int64_t total = 0;
    for (const tensor& p : parameters()) total += p.numel();
    return total;
}

}  // namespace difflab
