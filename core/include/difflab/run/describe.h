// SPDX-License-Identifier: Apache-2.0
// Human-readable and markdown descriptions of components, from their parameter tables.
#pragma once

#include <difflab/plugin/registry.h>

#include <string>
#include <vector>

namespace difflab {

/// Aligned text table of parameters ("key type default constraint description").
std::string params_table(const std::vector<param_info>& params, const std::string& indent = "  ");
/// `difflab describe KIND/NAME`.
std::string describe_text(const component_info& info);
/// `difflab describe KIND/NAME --markdown`: one page of docs/reference/.
std::string describe_markdown(const component_info& info);
/// Markdown page for the experiment file's top-level keys.
std::string experiment_markdown();

}  // namespace difflab
