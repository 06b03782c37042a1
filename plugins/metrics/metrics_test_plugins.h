// SPDX-License-Identifier: Apache-2.0
// Test support: the real plugins of this build (unet's classifier, the datasets) in one registry.
#pragma once

#include <difflab/plugin/registry.h>
#include <difflab/testing/testing.h>

#include <filesystem>
#include <string>

namespace difflab::plugins::metrics_testing {

/// Every plugin of this build (build/lib/difflab), loaded once per test process.
inline const registry& loaded_plugins() {
    return difflab::testing::build_plugins();
}

/// The committed Fashion-MNIST feature network of the source tree.
inline std::filesystem::path committed_classifier() {
    return std::filesystem::path(DIFFLAB_SOURCE_DIR) / "models" / "fmnist_classifier.safetensors";
}

}  // namespace difflab::plugins::metrics_testing
