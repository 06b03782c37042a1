// SPDX-License-Identifier: Apache-2.0
// Helpers for component tests: build a component from YAML options as the registry would.
#pragma once

#include <difflab/config_node.h>
#include <difflab/params.h>
#include <difflab/registry.h>

#include <string>

namespace difflab::testing {

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

}  // namespace difflab::testing
