// SPDX-License-Identifier: Apache-2.0
// Helpers for component tests: build a component from YAML options as the registry would.
#pragma once

#include <difflab/plugin/config_node.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/tensor.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

namespace difflab::testing {

/// Every plugin of this build (build/lib/difflab, or DIFFLAB_PLUGIN_PATH), loaded once per
/// test process: tests that run experiments through the real components.
inline const registry& build_plugins() {
    static registry loaded;
    static const bool once = [] {
        plugin_loader(loaded).load_all(plugin_loader::default_search_path());
        return true;
    }();
    (void)once;
    return loaded;
}

/// A component of kind K (network, process, sampler, measurement, ...) of the build's plugins,
/// from its YAML ("{type: ddim, steps: 4}"), resolved and validated as an experiment's is.
template <class K>
std::unique_ptr<K> make(const std::string& yaml) {
    const registry& plugins = build_plugins();
    static build_context context(plugins, 0);
    const config_node resolved = plugins.resolve(K::kind_name, parse_yaml(yaml, "test.yaml"), parse_context(&plugins));
    return std::unique_ptr<K>(static_cast<K*>(context.create(K::kind_name, resolved).release()));
}

/// A build context with an empty registry and seed 0.
inline build_context& test_context() {
    static registry components;
    static build_context context(components, 0);
    return context;
}

/// Component T built from its options written as YAML ("{steps: 20}"), parsed and validated
/// by T's parameter table exactly as an experiment file is.
template <class T>
T build(const std::string& yaml = "{}") {
    return T(T::params().parse(parse_yaml(yaml, "test.yaml"), parse_context()), test_context());
}

/// max |actual - expected| / max |expected|: an error relative to the reference's scale, as
/// comparisons with PyTorch fixtures use; infinity when the shapes differ.
inline double relative_error(const tensor& actual, const tensor& expected) {
    if (actual.shape() != expected.shape()) return std::numeric_limits<double>::infinity();
    const std::vector<float> a = actual.contiguous().to_vector(), b = expected.contiguous().to_vector();
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    }
    return diff / std::max(scale, 1e-30);
}

}  // namespace difflab::testing
