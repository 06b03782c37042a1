// SPDX-License-Identifier: Apache-2.0
// difflab: run, check and describe diffusion experiments composed from plugins.
#include <difflab/base/error.h>
#include <difflab/base/version.h>

#include <cstdio>
#include <csignal>
#include <iostream>
#include <map>

#include "cli_common.h"

namespace {

constexpr const char* usage = R"(usage: difflab COMMAND [ARGS...]

commands:
  run EXPERIMENT.yaml [key=value ...]     compose, validate and run an experiment (--resume)
  sample RUN_DIR [key=value ...]          sample an existing run with other sampler settings
  evaluate RUN_DIR [key=value ...]        recompute an existing run's metrics with other settings
  check EXPERIMENT.yaml [key=value ...]   compose and validate; print the resolved YAML
  plugins [--verbose]                     list loaded plugins and their components
  describe KIND/NAME [--markdown]         parameters of one component (or 'experiment')
  new-plugin NAME --kind KIND [--dir DIR] write an out-of-tree plugin project

'difflab COMMAND --help' describes each command. Exit codes: 0 ok, 1 runtime failure,
2 usage or configuration error.)";

}  // namespace

int main(int argc, char** argv) {
    using namespace difflab::cli;
    // Past a file-size limit (ulimit -f) a write fails with EFBIG, which the atomic writers turn
    // into an error naming the file, instead of SIGXFSZ ending the process mid-write.
    std::signal(SIGXFSZ, SIG_IGN);
    const std::map<std::string, int (*)(const std::vector<std::string>&)> commands{
        {"run", cmd_run},           {"check", cmd_check},           {"plugins", cmd_plugins},
        {"describe", cmd_describe}, {"new-plugin", cmd_new_plugin}, {"sample", cmd_sample},
        {"evaluate", cmd_evaluate}};
    if (argc < 2) {
        std::cerr << usage << "\n";
        return usage_error;
    }
    const std::string command = argv[1];
    if (command == "--help" || command == "-h" || command == "help") {
        std::cout << usage << "\n";
        return ok;
    }
    if (command == "--version") {
        std::cout << "difflab " << DIFFLAB_VERSION << " (plugin API " << DIFFLAB_PLUGIN_API_VERSION << ", "
                  << difflab::core_build_fingerprint() << ")\n";
        return ok;
    }
    const auto it = commands.find(command);
    try {
        if (it == commands.end())
            throw difflab::config_error("unknown command '" + command +
                                        "'; valid commands: run, sample, evaluate, check, "
                                        "plugins, describe, new-plugin (see difflab --help)");
        return it->second(std::vector<std::string>(argv + 2, argv + argc));
    } catch (const difflab::config_error& e) {
        std::cerr << e.what() << "\n";
        return usage_error;
    } catch (const difflab::error& e) {
        std::cerr << e.what() << "\n";
        return runtime_failure;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return runtime_failure;
    }
}
