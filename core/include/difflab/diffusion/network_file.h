// SPDX-License-Identifier: Apache-2.0
// A trained network in one file, with the configuration that rebuilds it.
#pragma once

#include <difflab/diffusion/network.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/registry.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace difflab {

/// A network saved as one safetensors file that needs nothing else to be used: the weights
/// under their module names and, in the metadata, "network" (the resolved network section as
/// one line of flow YAML) beside free-form entries ("test_accuracy", "train_steps",
/// "experiment", ...). classifier_training writes them: the metrics' feature networks and the
/// noisy classifiers of classifier guidance.
struct network_file {
    std::unique_ptr<network> net;
    config_node config;                           ///< the resolved network section
    std::map<std::string, std::string> metadata;  ///< every entry, "network" included
};

/// Writes `net`'s weights, `config` and `metadata` to `file` atomically (temporary file,
/// fsync, rename).
void write_network_file(const std::filesystem::path& file, const network& net, const config_node& config,
                        std::map<std::string, std::string> metadata = {});

/// Reads `file` and rebuilds its network through `components` (the plugin that registers its
/// type must be loaded), in eval mode. A missing or damaged file, metadata without "network" or
/// weights that do not fit are one-line errors naming the file, ending with `hint` (how to make
/// a good one).
network_file read_network_file(const std::filesystem::path& file, const registry& components, const std::string& hint);

}  // namespace difflab
