// SPDX-License-Identifier: Apache-2.0
// difflab run: compose, validate and carry out an experiment.
#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/run/experiment.h>
#include <difflab/run/run.h>

#include "cli_common.h"

namespace difflab::cli {

int cmd_run(const std::vector<std::string>& args) {
    po::options_description options("run options");
    add_common_options(options);
    options.add_options()("output,o", po::value<std::string>()->default_value("runs"),
                          "directory that holds run directories")("overwrite",
                                                                  "replace an existing run directory of the same name")(
        "resume", "continue the run in its directory from its latest checkpoint")(
        "args", po::value<std::vector<std::string>>(), "EXPERIMENT.yaml [key=value ...]");
    const po::variables_map vm = parse(args, options, "args");
    if (handle_common_options(vm,
                              "usage: difflab run EXPERIMENT.yaml [key.path=value | +key.path=value ...]\n\n"
                              "Runs the experiment in OUTPUT/<name>/ (config.yaml, logs, samples, report).",
                              options))
        return ok;
    if (!vm.count("args")) throw config_error("run needs an experiment file; see difflab run --help");
    std::vector<std::string> positional = vm["args"].as<std::vector<std::string>>();
    const std::string file = positional.front();
    positional.erase(positional.begin());

    session s;
    const config_node resolved = load_experiment(file, positional, s.plugins, s.components);
    run_options opts;
    opts.output_root = vm["output"].as<std::string>();
    opts.overwrite = vm.count("overwrite") > 0;
    opts.resume = vm.count("resume") > 0;
    if (opts.resume && opts.overwrite) throw config_error("--resume and --overwrite exclude each other");
    const auto dir = run_experiment(resolved, s.components, s.plugins, opts);
    log_info("done: {}", dir.string());
    return ok;
}

}  // namespace difflab::cli
