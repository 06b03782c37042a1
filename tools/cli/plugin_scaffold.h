// SPDX-License-Identifier: Apache-2.0
// The files `difflab new-plugin` writes.
#pragma once

#include <string>

namespace difflab::cli {

/// Writes a buildable plugin project for one component of `kind` into `dir`, which must not
/// exist or be empty. The component is registered under the plugin's name.
void write_plugin_scaffold(const std::string& name, const std::string& kind, const std::string& dir);

}  // namespace difflab::cli
