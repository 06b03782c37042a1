// SPDX-License-Identifier: Apache-2.0
// Named intermediate activations of a network.
#include <difflab/base/error.h>
#include <difflab/diffusion/activation_taps.h>
#include <difflab/diffusion/network.h>
#include <difflab/tensor/autograd.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace difflab {

bool activation_taps::wants(const std::string& name) const {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
}

void activation_taps::keep(const std::string& name, const tensor& activation) {
    const no_grad_guard no_grad;
    tensor copy = activation.contiguous().clone();
    for (auto& [key, value] : kept_)
        if (key == name) {
            value = std::move(copy);
            return;
        }
    kept_.emplace_back(name, std::move(copy));
}

const tensor& activation_taps::at(const std::string& name) const {
    for (const auto& [key, value] : kept_)
        if (key == name) return value;
    throw error(
        fmt::format("activation tap '{}' holds nothing: no forward call since it was set, or the network "
                    "does not tap that name",
                    name));
}

void network::set_taps(activation_taps* taps) {
    if (taps) {
        const std::vector<std::string> known = tap_names();
        for (const std::string& name : taps->names())
            if (std::find(known.begin(), known.end(), name) == known.end())
                throw config_error(
                    fmt::format("this network has no activation tap '{}'; its taps: {}", name,
                                known.empty() ? std::string("none") : fmt::format("{}", fmt::join(known, ", "))));
    }
    taps_ = taps;
}

}  // namespace difflab
