// SPDX-License-Identifier: Apache-2.0
// difflab evaluate: recompute the metrics of an existing run with other settings.
#include <difflab/base/log.h>
#include <difflab/run/run.h>

#include <cctype>

#include "cli_common.h"

namespace difflab::cli {

namespace {

/// "evaluate.count=2000,sample.sampler.steps=20" as a directory name; "default" with no overrides.
std::string default_label(const std::vector<std::string>& overrides) {
    std::string label;
    for (const std::string& o : overrides) {
        if (!label.empty()) label += ',';
        for (char c : o)
            label += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '-' ? c : '_';
    }
    return label.empty() ? "default" : label;
}

}  // namespace

int cmd_evaluate(const std::vector<std::string>& args) {
    po::options_description options("evaluate options");
    add_common_options(options);
    options.add_options()("name", po::value<std::string>(),
                          "subdirectory of RUN/evaluations/ to write (default: the overrides, or 'default')")(
        "args", po::value<std::vector<std::string>>(), "RUN_DIR [key=value ...]");
    const po::variables_map vm = parse(args, options, "args");
    if (handle_common_options(
            vm,
            "usage: difflab evaluate RUN_DIR [key.path=value ...]\n\n"
            "Samples and evaluates an existing run (every variant of a grid) from its trained models with\n"
            "other settings, e.g.\n"
            "  difflab evaluate runs/ddpm_fmnist evaluate.count=2000 'evaluate.metrics=[fid, precision_recall]'\n"
            "writes RUN_DIR/evaluations/<name>/ (metrics.json, report.md; results.csv for a grid) and exits 1\n"
            "when an `expect:` claim fails.",
            options))
        return ok;
    session s;
    const existing_run run = load_existing_run(vm, "evaluate", s);
    const std::string label = vm.count("name") ? vm["name"].as<std::string>() : default_label(run.overrides);
    const auto dir = evaluate_run(run.dir, run.resolved, s.components, label);
    log_info("done: {}", dir.string());
    return ok;
}

}  // namespace difflab::cli
