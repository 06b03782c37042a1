// SPDX-License-Identifier: Apache-2.0
// Named intermediate activations of a network, for methods that read its features.
#pragma once

#include <difflab/tensor/tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace difflab {

/// The intermediate activations a caller asks a network to keep during forward, by name
/// (network::tap_names, e.g. the U-Net's "decoder.2"): Baranchuk et al. 2022 ("Label-efficient
/// semantic segmentation with diffusion models") classify pixels from a U-Net's decoder blocks.
/// Give it to network::set_taps; after each forward, `at(name)` holds the activation that call
/// computed, a contiguous [N, C, h, w] copy, detached from any graph.
class activation_taps {
public:
    explicit activation_taps(std::vector<std::string> names) : names_(std::move(names)) {}

    const std::vector<std::string>& names() const { return names_; }
    bool wants(const std::string& name) const;
    /// Keeps `activation` under `name` (what networks call from forward).
    void keep(const std::string& name, const tensor& activation);
    /// The activation kept under `name`; throws when forward kept none.
    const tensor& at(const std::string& name) const;

private:
    std::vector<std::string> names_;
    std::vector<std::pair<std::string, tensor>> kept_;
};

}  // namespace difflab
