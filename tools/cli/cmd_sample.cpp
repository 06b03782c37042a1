// SPDX-License-Identifier: Apache-2.0
// difflab sample: draw samples from an existing run with other sampler settings.
#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/run/run.h>

#include "cli_common.h"

namespace difflab::cli {

namespace {

/// "dpm_solver_pp-20" (or "dpm_solver_pp-20-bf16") from the resolved sample.sampler and
/// sample.precision: where these samples go by default.
std::string default_label(const config_node& resolved) {
    const config_node& sample = *resolved.find("sample");
    const config_node& sampler = *sample.find("sampler");
    std::string label = sampler.find("type")->text();
    if (const config_node* steps = sampler.find("steps")) label += "-" + steps->text();
    if (const config_node* precision = sample.find("precision"); precision && precision->text() != "fp32")
        label += "-" + precision->text();
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
    session s;
    const existing_run run = load_existing_run(vm, "sample", s);
    const std::string label = vm.count("name") ? vm["name"].as<std::string>() : default_label(run.resolved);
    const auto dir = sample_run(run.dir, run.resolved, s.components, label);
    log_info("done: {}", dir.string());
    return ok;
}

}  // namespace difflab::cli
