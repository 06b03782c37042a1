// SPDX-License-Identifier: Apache-2.0
// The `variants:` grid of an experiment: one run per combination of settings.
#pragma once

#include <difflab/base/error.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/registry.h>

#include <string>
#include <utility>
#include <vector>

namespace difflab {

/// One combination of a `variants:` grid.
struct experiment_variant {
    /// How reports and `expect:` name it: the axes' labels joined by ", ". An axis written as a
    /// map ({ddim_10: {...}, ...}) labels its values with their keys; one written as a list
    /// labels a scalar value `key=value` (last path segment: `steps=10`) and a map value with
    /// its one-line YAML.
    std::string label;
    /// The label as a directory name (characters other than letters, digits and ._=- become _).
    std::string slug;
    /// Per axis: its key path and the value this variant sets there.
    std::vector<std::pair<std::string, config_node>> settings;
    /// Per axis: the label of that value (what `label` joins).
    std::vector<std::string> labels;
    /// The experiment with these settings merged in (maps merge key by key unless the
    /// component type changes, as with `defaults:`), resolved, without `variants` and `expect`.
    config_node experiment;
};

/// `label` as a file or directory name: characters other than letters, digits and ._=- become
/// one _ per run, none at the end; "variant" when nothing is left.
std::string slug_of(const std::string& label);

/// The combinations of the resolved experiment's `variants:` in order (the first axis varies
/// slowest), each validated; empty when it has none. Errors point at the axis or value. The
/// axis key `.` is the whole experiment: its values are labelled maps of sections, each merged
/// into the experiment as `defaults:` merge, for arms that differ in several places at once
/// (`.: {sr3_x4: {task: {method: sr3}, train: {init_from: runs/sr3_fmnist}}, ...}`).
/// `variants.exclude` (not an axis) lists rules that leave combinations out: a rule maps axis
/// key paths to a value label, a list of labels, or {not: LABEL or [LABELS]}, and a combination
/// whose labels match every key of a rule is left out:
///   exclude: [{sample.sampler: rk45, sample.nfe: {not: nfe=0}}]
std::vector<experiment_variant> expand_variants(const config_node& resolved, const registry& components);

/// The part of a resolved experiment that determines its trained model: everything but
/// name, description, sample, evaluate, expect and variants. Variants with equal keys share
/// one training run.
std::string model_key(const config_node& experiment);

/// What a task throws when the combination it was given does not apply: a sampler that is not
/// defined for the process (sampler::check refused it), an NFE budget below one step's cost. A
/// grid records the variant as not run, with this message as the reason, and goes on; a single
/// run fails with it as the configuration error it is (exit 2).
class variant_not_applicable : public config_error {
public:
    using config_error::config_error;
};

}  // namespace difflab
