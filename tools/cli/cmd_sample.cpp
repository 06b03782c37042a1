// SPDX-License-Identifier: Apache-2.0
// difflab sample: draw samples from an existing run with other sampler settings.
#include <difflab/error.h>
#include <difflab/experiment.h>
#include <difflab/log.h>
#include <difflab/run.h>

#include <filesystem>

#include "cli_common.h"

namespace difflab::cli {

namespace {

/// "dpm_solver_pp-20" from the resolved sample.sampler: where these samples go by default.
std::string default_label(const config_node& resolved) {
    const config_node& sampler = *resolved.find("sample")->find("sampler");
    std::string label = sampler.find("type")->text();
    if (const config_node* steps = sampler.find("steps")) label += "-" + steps->text();
    return label;
}

}  // namespace

int cmd_sample(const std::vector<std::string>& args) {
    po::options_description options("sample options");
    add_common_options(options);
    options.add_options()("name", po::value<std::string>(),
                          "subdirectory of RUN/samples/ to write (default: sampler type and steps)")(
        "args", po::value<std::vector<std::string>>(), "RUN_DIR [key=value ...]");
    const po::variables_map vm = parse(args, options, "args");
    if (handle_common_options(
            vm,
            "usage: difflab sample RUN_DIR [key.path=value ...]\n\n"
            "Samples an existing run from its latest checkpoint, e.g.\n"
            "  difflab sample runs/quickstart sample.sampler.type=dpm_solver_pp sample.sampler.steps=20\n"
            "writes RUN_DIR/samples/dpm_solver_pp-20/ (grid.png, samples.safetensors, report.md).",
            options))
        return ok;
    if (!vm.count("args")) throw config_error("error: sample needs a run directory; see difflab sample --help");
    std::vector<std::string> positional = vm["args"].as<std::vector<std::string>>();
    const std::filesystem::path run_dir = positional.front();
    positional.erase(positional.begin());
    const std::filesystem::path config = run_dir / "config.yaml";
    if (!std::filesystem::exists(config))
        throw config_error(format_error(run_dir.string(), "not a run directory (no config.yaml)",
                                        {"give the directory `difflab run` wrote, e.g. runs/NAME"}));

    session s;
    const config_node resolved = load_experiment(config, positional, s.plugins, s.components);
    const std::string label = vm.count("name") ? vm["name"].as<std::string>() : default_label(resolved);
    const auto dir = sample_run(run_dir, resolved, s.components, label);
    log_info("done: {}", dir.string());
    return ok;
}

}  // namespace difflab::cli
