// SPDX-License-Identifier: Apache-2.0
// The base of every registered component and the eight component kinds.
#pragma once

namespace difflab {

/// Base of every component a plugin registers. Components are created by the registry from
/// a configuration node and owned by the core; their code lives in a plugin library that is
/// never unloaded, so their virtual tables stay valid for the life of the process.
class component {
public:
    component() = default;
    component(const component&) = delete;
    component& operator=(const component&) = delete;
    virtual ~component() = default;
};

/// The kinds, in the order `difflab plugins` lists them.
inline constexpr const char* component_kinds[] = {"process", "noise",   "network", "sampler",
                                                  "task",    "dataset", "metric",  "measurement"};

}  // namespace difflab
