// SPDX-License-Identifier: Apache-2.0
// Experiment files: composition of defaults, command-line overrides, validation.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/process.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/task.h>
#include <difflab/run/training.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace difflab {

using dataset_ref = component_ref<dataset>;
using process_ref = component_ref<process>;
using noise_ref = component_ref<noise>;
using network_ref = component_ref<network>;
using task_ref = component_ref<task>;

/// The top-level keys of an experiment file.
struct experiment_options {
    std::string name;
    std::string description;
    std::int64_t seed = 0;
    std::vector<std::string> plugins;
    dataset_ref data;
    process_ref process;
    noise_ref noise;
    network_ref network;
    task_ref task;
    training_options train;
    sampling_options sample;
    evaluation_options evaluate;
    config_node expect;    ///< reproduction claims (claims.h), checked after the run
    config_node variants;  ///< a grid of settings (variants.h), one run per combination

    static param_spec<experiment_options> params();
};

/// The typed top-level options of a resolved experiment (its seed, train.steps, ...), parsed
/// through experiment_options::params() rather than read back from the tree's text.
experiment_options read_experiment(const config_node& resolved);

/// Merges `later` into `base` as `defaults:` are merged: maps key by key unless the
/// component `type` changes; anything else replaces.
void merge_config(config_node& base, const config_node& later);

/// Loads `file` and merges its `defaults:` (paths relative to the including file, loaded
/// first in order, this file last). Maps merge key by key; a map whose `type` changes
/// replaces the earlier one whole, since its other keys belonged to the old type; anything
/// else replaces. Cycles are errors.
config_node compose_experiment(const std::filesystem::path& file);

/// Applies `key.path=value` (set a key, present in the file or not) and `+key.path=value`
/// (add a key that must not be present yet) to the composed tree. Values are YAML. Each
/// override is "command line" line i (1-based) in error messages. Overrides of `type` are
/// applied first and drop the other keys written for the old type.
void apply_overrides(config_node& experiment, const std::vector<std::string>& overrides);

/// The `plugins:` entries with where they were written.
std::vector<std::pair<std::string, source_mark>> requested_plugins(const config_node& experiment);

/// Validates the composed experiment against the registry and returns it resolved: every
/// component with all its options. A `provenance` key (written into run directories) is
/// ignored.
config_node resolve_experiment(const config_node& experiment, const registry& components);

/// The whole path from file to resolved experiment, as `run` and `check` take it: compose,
/// apply overrides, load the plugins (DIFFLAB_PLUGIN_PATH, the experiment's plugin paths,
/// the core's plugin directory), check that every plugin it names is loaded, validate.
config_node load_experiment(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                            plugin_loader& plugins, const registry& components);

}  // namespace difflab
