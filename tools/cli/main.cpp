// SPDX-License-Identifier: Apache-2.0
// difflab: run, check and describe diffusion experiments composed from plugins.
#include <difflab/base/distributed.h>
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

/// Runs a command; an error ends the whole MPI job from the rank that met it (each rank
/// prints its own, rank 0 unprefixed), so that no rank waits for a peer that will never come.
int run_command(int (*command)(const std::vector<std::string>&), const std::vector<std::string>& args) {
    using namespace difflab::cli;
    int status = ok;
    try {
        status = command(args);
    } catch (const difflab::config_error& e) {
        std::cerr << difflab::distributed::log_prefix() << e.what() << "\n";
        status = usage_error;
    } catch (const difflab::error& e) {
        std::cerr << difflab::distributed::log_prefix() << e.what() << "\n";
        status = runtime_failure;
    } catch (const std::exception& e) {
        std::cerr << difflab::distributed::log_prefix() << "error: " << e.what() << "\n";
        status = runtime_failure;
    }
    if (status != ok && difflab::distributed::size() > 1) difflab::distributed::abort_job(status);
    difflab::distributed::finish();
    return status;
}

int unknown_command(const std::vector<std::string>& args) {
    throw difflab::config_error("unknown command '" + args.front() +
                                "'; valid commands: run, sample, evaluate, check, "
                                "plugins, describe, new-plugin (see difflab --help)");
}

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
    if (it == commands.end()) return run_command(unknown_command, {command});
    // Under mpirun or srun every rank joins the job here; a plain start is a job of one.
    difflab::distributed::start(argc, argv);
    return run_command(it->second, std::vector<std::string>(argv + 2, argv + argc));
}
