// SPDX-License-Identifier: Apache-2.0
// difflab new-plugin: scaffold an out-of-tree plugin project.
#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/base/suggest.h>
#include <difflab/plugin/component.h>

#include <iostream>

#include "cli_common.h"
#include "plugin_scaffold.h"

namespace difflab::cli {

int cmd_new_plugin(const std::vector<std::string>& args) {
    po::options_description options("new-plugin options");
    add_common_options(options);
    const std::vector<std::string> kinds(std::begin(component_kinds), std::end(component_kinds));
    options.add_options()("kind", po::value<std::string>(), ("component kind: " + join(kinds)).c_str())(
        "dir", po::value<std::string>(), "project directory (default: ./NAME)")(
        "name", po::value<std::vector<std::string>>(), "plugin name (lowercase snake_case)");
    const po::variables_map vm = parse(args, options, "name");
    if (handle_common_options(vm,
                              "usage: difflab new-plugin NAME --kind KIND [--dir DIR]\n\n"
                              "Writes a plugin project (CMakeLists.txt, plugin.cpp, one component, a test,\n"
                              "README.md) that builds against an installed or build-tree difflab.",
                              options))
        return ok;
    if (!vm.count("name") || vm["name"].as<std::vector<std::string>>().size() != 1 || !vm.count("kind"))
        throw config_error("new-plugin needs NAME and --kind KIND; see difflab new-plugin --help");
    const std::string name = vm["name"].as<std::vector<std::string>>().front();
    const std::string dir = vm.count("dir") ? vm["dir"].as<std::string>() : name;
    write_plugin_scaffold(name, vm["kind"].as<std::string>(), dir);
    log_info(
        "wrote plugin '{}' in {}; build it with:\n  cmake -S {} -B {}/build -Ddifflab_DIR=<difflab build or "
        "<prefix>/lib/cmake/difflab> && cmake --build {}/build\nthen export DIFFLAB_PLUGIN_PATH={}/build",
        name, dir, dir, dir, dir, dir);
    return ok;
}

}  // namespace difflab::cli
