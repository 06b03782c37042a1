// SPDX-License-Identifier: Apache-2.0
// The plugin entry point: one exported descriptor per plugin library.
#pragma once

#include <difflab/base/version.h>
#include <difflab/plugin/registry.h>

#include <boost/dll/alias.hpp>

namespace difflab {

/// What a plugin library exports, through the Boost.DLL alias `difflab_plugin_descriptor`.
/// Standard layout, api_version first: the loader reads that field before anything else,
/// so that later versions may change the rest.
struct plugin_descriptor {
    int api_version;                ///< DIFFLAB_PLUGIN_API_VERSION the plugin was built against
    const char* build_fingerprint;  ///< DIFFLAB_BUILD_FINGERPRINT of the plugin's build
    const char* name;               ///< == folder name == library difflab_<name>.so
    const char* version;
    void (*register_components)(registry&);
};

/// The type of the exported alias.
using plugin_descriptor_fn = const plugin_descriptor*();

}  // namespace difflab

/// Defines a plugin's descriptor and the body of its register function:
///
///     DIFFLAB_PLUGIN(ddpm, "0.1.0", reg) { reg.add<ddim_sampler>("ddim"); }
///
/// No static-initializer registration: nothing runs until the loader has checked the
/// descriptor and calls register_components.
#define DIFFLAB_PLUGIN(NAME, VERSION, REG)                                                                          \
    static void difflab_register_components_(::difflab::registry& REG);                                             \
    namespace {                                                                                                     \
    const ::difflab::plugin_descriptor* difflab_describe_plugin_() {                                                \
        static const ::difflab::plugin_descriptor descriptor{DIFFLAB_PLUGIN_API_VERSION, DIFFLAB_BUILD_FINGERPRINT, \
                                                             #NAME, VERSION, &difflab_register_components_};        \
        return &descriptor;                                                                                         \
    }                                                                                                               \
    }                                                                                                               \
    BOOST_DLL_ALIAS(difflab_describe_plugin_, difflab_plugin_descriptor)                                            \
    static void difflab_register_components_(::difflab::registry& REG)
