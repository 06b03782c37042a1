// SPDX-License-Identifier: Apache-2.0
// difflab plugins: what is loaded, from where, with every component (and parameter table).
#include <difflab/run/describe.h>
#include <fmt/format.h>

#include <iostream>

#include "cli_common.h"

namespace difflab::cli {

int cmd_plugins(const std::vector<std::string>& args) {
    po::options_description options("plugins options");
    add_common_options(options);
    const po::variables_map vm = parse(args, options);
    if (handle_common_options(vm,
                              "usage: difflab plugins [--verbose]\n\n"
                              "Lists the plugins on the plugin path (DIFFLAB_PLUGIN_PATH, then the core's\n"
                              "plugin directory) with their components; --verbose adds parameter tables.",
                              options))
        return ok;
    const bool verbose = vm.count("verbose") > 0;

    session s;
    s.load_default_plugins();
    std::vector<std::string> searched;
    for (const auto& p : s.plugins.searched()) searched.push_back(p.string());
    std::cout << "plugin path: " << fmt::format("{}", fmt::join(searched, ":")) << "\n";
    if (s.plugins.plugins().empty()) std::cout << "no plugins found\n";
    for (const loaded_plugin& p : s.plugins.plugins()) {
        std::cout << "\n" << p.name << " " << p.version << "  " << p.path.string() << "\n";
        for (const component_info* c : s.components.all()) {
            if (c->plugin != p.name) continue;
            std::cout << "  " << c->full_name() << " — " << c->description << "\n";
            if (verbose) std::cout << params_table(c->params, "      ");
        }
    }
    return ok;
}

}  // namespace difflab::cli
