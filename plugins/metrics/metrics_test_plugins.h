// SPDX-License-Identifier: Apache-2.0
// Test support: the real plugins of this build (unet's classifier, the datasets) in one registry.
#pragma once

#include <difflab/plugin/plugin_loader.h>
#include <difflab/plugin/registry.h>

#include <filesystem>
#include <string>

namespace difflab::plugins::testing {

/// Every plugin of this build (build/lib/difflab), loaded once per test process.
inline const registry& loaded_plugins() {
    static registry loaded;
    static const bool once = [] {
        plugin_loader(loaded).load_all(plugin_loader::default_search_path());
        return true;
    }();
    (void)once;
    return loaded;
}

/// The committed Fashion-MNIST feature network of the source tree.
inline std::filesystem::path committed_classifier() {
    return std::filesystem::path(DIFFLAB_SOURCE_DIR) / "models" / "fmnist_classifier.safetensors";
}

}  // namespace difflab::plugins::testing
