// SPDX-License-Identifier: Apache-2.0
// Carrying out an experiment: the run directory, its resolved config.yaml, the task.
#pragma once

#include <difflab/plugin/config_node.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/plugin/registry.h>

#include <filesystem>

namespace difflab {

/// The resolved experiment with what produced it: difflab version, build fingerprint and
/// every loaded plugin's version, under `provenance`.
config_node with_provenance(const config_node& resolved, const plugin_loader& plugins);

struct run_options {
    std::filesystem::path output_root = "runs";
    bool overwrite = false;  ///< replace an existing run directory of the same name
    /// Continue the run in its existing directory from its latest checkpoint; the experiment
    /// must resolve to the run's config.yaml except for train.steps (to train longer).
    bool resume = false;
};

/// Creates runs/<name>/, writes config.yaml (atomically) and runs the experiment's task.
/// With `variants:` it runs every combination instead: the first variant of each distinct
/// model trains it in models/<its slug>/, every variant samples and evaluates into
/// variants/<slug>/, and the grid's results.csv, plots and report.md go to the run directory.
/// Then it checks the `expect:` claims and throws difflab::error (exit 1) naming each that
/// failed, with its numbers. Returns the run directory.
std::filesystem::path run_experiment(const config_node& resolved, const registry& components,
                                     const plugin_loader& plugins, const run_options& options);

/// `difflab evaluate`: samples and evaluates an existing run (every variant of a grid) from its
/// trained models with `resolved` (its config.yaml with overrides), into
/// run_dir/evaluations/<label>/, then checks the claims as `run` does. Returns that directory.
std::filesystem::path evaluate_run(const std::filesystem::path& run_dir, const config_node& resolved,
                                   const registry& components, const std::string& label);

/// `difflab sample`: runs the task of an existing run directory in sampling-only mode with
/// `resolved` (its config.yaml with overrides), writing to run_dir/samples/<label>/ (with the
/// config.yaml used). Returns that directory.
std::filesystem::path sample_run(const std::filesystem::path& run_dir, const config_node& resolved,
                                 const registry& components, const std::string& label);

}  // namespace difflab
