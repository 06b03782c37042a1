// SPDX-License-Identifier: Apache-2.0
// Options and argument parsing shared by the subcommands.
#include "cli_common.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/base/threads.h>
#include <difflab/run/experiment.h>

#include <iostream>

namespace difflab::cli {

void add_common_options(po::options_description& options) {
    options.add_options()("help,h", "show this help")("threads", po::value<int>()->default_value(0),
                                                      "threads for compute (0: all cores)")("quiet,q", "only errors")(
        "verbose,v", "debug output (plugin loading, ...)");
}

bool handle_common_options(const po::variables_map& vm, const std::string& usage,
                           const po::options_description& options) {
    if (vm.count("help")) {
        std::cout << usage << "\n\n" << options << "\n";
        return true;
    }
    if (vm.count("quiet")) set_log_level(log_level::quiet);
    if (vm.count("verbose")) set_log_level(log_level::debug);
    const int threads = vm["threads"].as<int>();
    if (threads < 0) throw config_error("--threads must be 0 (all cores) or a positive count");
    set_thread_count(threads);
    return false;
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& options,
                        const char* positional) {
    po::positional_options_description pos;
    if (positional) pos.add(positional, -1);
    po::variables_map vm;
    try {
        // Overrides such as "+a.b=1" or "x=-1" are positional, never options.
        po::store(po::command_line_parser(args)
                      .options(options)
                      .positional(pos)
                      .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw config_error(std::string(e.what()) + "; see --help");
    }
    return vm;
}

existing_run load_existing_run(const po::variables_map& vm, const std::string& command, session& s) {
    if (!vm.count("args"))
        throw config_error(fmt::format("{} needs a run directory; see difflab {} --help", command, command));
    existing_run run;
    run.overrides = vm["args"].as<std::vector<std::string>>();
    run.dir = run.overrides.front();
    run.overrides.erase(run.overrides.begin());
    const std::filesystem::path config = run.dir / "config.yaml";
    if (!std::filesystem::exists(config))
        throw config_error(source_mark{run.dir.string()}, "not a run directory (no config.yaml)",
                           {"give the directory `difflab run` wrote, e.g. runs/NAME"});
    run.resolved = load_experiment(config, run.overrides, s.plugins, s.components);
    return run;
}

}  // namespace difflab::cli
