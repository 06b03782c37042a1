// SPDX-License-Identifier: Apache-2.0
// Test support for networks: random weights, PyTorch reference fixtures and the comparison with them.
#pragma once

#include <difflab/diffusion/network.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

namespace difflab::testing {

/// Whether every element of t is exactly 0.
inline bool all_zero(const tensor& t) {
    const std::vector<float> v = t.to_vector();
    return std::all_of(v.begin(), v.end(), [](float f) { return f == 0.0f; });
}

/// Random weights everywhere, zero-initialized output layers included (a fresh U-Net outputs
/// exactly 0, which would make comparisons pass trivially): N(0, 1 / fan_in), plus 1 for
/// normalization scales.
inline void randomize_parameters(module& net, std::uint64_t seed = 3) {
    no_grad_guard guard;
    std::uint64_t index = 0;
    for (auto& [name, p] : net.named_parameters()) {
        const tensor z = randn(p.shape(), seed, random_purpose("testing.randomize"), 100000 * index++);
        const double fan_in = p.dim() >= 2 ? static_cast<double>(p.numel() / p.size(0)) : 100.0;
        p.copy_(z * static_cast<float>(1.0 / std::sqrt(fan_in)) +
                (name.find("norm.weight") != std::string::npos ? 1.0f : 0.0f));
    }
}

/// A fixture written by a PyTorch twin of a network (tools/bench/unet_reference.py): the
/// weights ("model/<name>"), inputs x, noise (and labels, clean_mask), PyTorch's output "out",
/// a seeded output gradient "grad_out" and the gradients of sum(out * grad_out) ("grad/x",
/// "grad/<parameter>"); the network's options (YAML) in the metadata.
struct torch_fixture {
    std::string options;
    std::map<std::string, tensor> tensors;
    state_dict_t weights;

    explicit torch_fixture(const std::filesystem::path& path) {
        const safetensors_file file = read_safetensors(path);
        options = file.metadata.at("options");
        for (const safetensors_entry& e : file.tensors) {
            if (e.name.rfind("model/", 0) == 0)
                weights[e.name.substr(6)] = to_tensor(e);
            else
                tensors[e.name] = to_tensor(e);
        }
    }
    /// The tensor `key`, or an undefined tensor when the fixture has none.
    tensor get(const std::string& key) const {
        const auto it = tensors.find(key);
        return it == tensors.end() ? tensor() : it->second;
    }
};

/// Loads the fixture's weights into `net` (strictly), runs forward and backward with its inputs
/// and output gradient, and returns the relative error (`relative_error`) of the output ("out")
/// and of every gradient the fixture holds ("grad/x", "grad/<parameter>"). The fixture's x holds
/// the network's whole input: its last `condition_channels` channels (a unet's
/// extra_in_channels) go to the network as condition.channels, and "grad/x" is compared with
/// the gradient of both. The fixture's labels and clean_mask, when it has them, go to the
/// network as condition.labels and condition.clean_mask.
inline std::map<std::string, double> compare_with_torch(network& net, const torch_fixture& f,
                                                        std::int64_t condition_channels = 0) {
    net.load_state_dict(f.weights);
    net.eval();
    const tensor x = f.get("x").detach().set_requires_grad(true);
    condition cond;
    cond.labels = f.get("labels");
    cond.clean_mask = f.get("clean_mask");
    tensor own = x;
    if (condition_channels > 0) {
        const std::int64_t split = x.size(1) - condition_channels;
        own = x.slice(1, 0, split);
        cond.channels = x.slice(1, split, x.size(1));
    }
    const tensor out = net.forward(own, f.get("noise"), cond);
    std::map<std::string, double> errors{{"out", relative_error(out, f.get("out"))}};
    out.backward(f.get("grad_out"));
    const auto named = net.named_parameters();
    const std::map<std::string, tensor> params(named.begin(), named.end());
    for (const auto& [key, expected] : f.tensors) {
        if (key.rfind("grad/", 0) != 0) continue;
        const std::string what = key.substr(5);
        const auto param = params.find(what);
        if (what != "x" && param == params.end()) throw std::runtime_error("fixture gradient of no parameter: " + what);
        const tensor actual = what == "x" ? x.grad() : param->second.grad();
        errors[key] = actual.defined() ? relative_error(actual, expected) : std::numeric_limits<double>::infinity();
    }
    return errors;
}

}  // namespace difflab::testing
