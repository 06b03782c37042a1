// SPDX-License-Identifier: Apache-2.0
// difflab check: compose and validate an experiment, print the resolved YAML, run nothing.
#include <difflab/base/error.h>
#include <difflab/run/experiment.h>
#include <difflab/run/run.h>

#include <iostream>

#include "cli_common.h"

namespace difflab::cli {

int cmd_check(const std::vector<std::string>& args) {
    po::options_description options("check options");
    add_common_options(options);
    options.add_options()("args", po::value<std::vector<std::string>>(), "EXPERIMENT.yaml [key=value ...]");
    const po::variables_map vm = parse(args, options, "args");
    if (handle_common_options(vm,
                              "usage: difflab check EXPERIMENT.yaml [key.path=value | +key.path=value ...]\n\n"
                              "Composes the experiment (defaults, overrides), loads its plugins, validates\n"
                              "every key and prints the resolved configuration. Runs nothing.",
                              options))
        return ok;
    if (!vm.count("args")) throw config_error("check needs an experiment file; see difflab check --help");
    std::vector<std::string> positional = vm["args"].as<std::vector<std::string>>();
    const std::string file = positional.front();
    positional.erase(positional.begin());

    session s;
    const config_node resolved = load_experiment(file, positional, s.plugins, s.components);
    std::cout << to_yaml(with_provenance(resolved, s.plugins));
    return ok;
}

}  // namespace difflab::cli
