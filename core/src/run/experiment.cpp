// SPDX-License-Identifier: Apache-2.0
// Composition, overrides and validation of experiment files.
#include <difflab/base/suggest.h>
#include <difflab/run/claims.h>
#include <difflab/run/experiment.h>
#include <difflab/run/variants.h>
#include <fmt/format.h>

#include <algorithm>

namespace difflab {

namespace fs = std::filesystem;

param_spec<experiment_options> experiment_options::params() {
    param_spec<experiment_options> spec{"An experiment: what to train, sample and evaluate, composed from plugins."};
    spec.require(&experiment_options::name, "name", "Name of the run; its directory is runs/<name>/.", non_empty());
    spec.add(&experiment_options::description, "description", "One line saying what the experiment shows.");
    spec.add(&experiment_options::seed, "seed", "Seed of every random stream (Philox keys).",
             at_least<std::int64_t>(0));
    spec.add(&experiment_options::plugins, "plugins",
             "Plugins this experiment needs: names (must be on the plugin path) or paths to a "
             "directory or difflab_<name>.so, relative to the experiment file.");
    spec.add(&experiment_options::data, "data", "The dataset.");
    spec.add(&experiment_options::process, "process", "The forward (noising) process.");
    spec.add(&experiment_options::noise, "noise",
             "The noise of x_t = alpha x_0 + sigma noise, which training, x_T and samplers draw (default: standard "
             "Gaussian, as type gaussian).");
    spec.add(&experiment_options::network, "network", "The network (denoiser backbone).");
    spec.require(&experiment_options::task, "task", "What the run does (generation, super_resolution, ...).");
    spec.section(&experiment_options::train, "train", "Training of the network.", training_options::params());
    spec.section(&experiment_options::sample, "sample", "Sampling after training.", sampling_options::params());
    spec.section(&experiment_options::evaluate, "evaluate", "Metrics after sampling.", evaluation_options::params());
    spec.add(&experiment_options::expect, "expect",
             "Reproduction claims on metrics: {METRIC: {min: A, max: B}} for every run, {VARIANT: {METRIC: "
             "{less_than: OTHER_VARIANT}}} between variants, {METRIC: {greater_than: {metric: OTHER_METRIC}}} between "
             "two metrics of each; a claim that fails makes the run exit 1.");
    spec.add(&experiment_options::variants, "variants",
             "A grid: {key.path: [value, ...]} or {key.path: {label: value, ...}}; every combination runs, "
             "sharing trained models where only sample/evaluate settings differ, except those an `exclude: [{key.path: "
             "label or [labels] or {not: labels}, ...}]` rule matches.");
    return spec;
}

namespace {

bool has_type(const config_node& n) {
    return n.is_map() && n.find("type") && n.find("type")->is_scalar();
}

}  // namespace

void merge_config(config_node& base, const config_node& later) {
    const bool type_changes =
        has_type(base) && has_type(later) && base.find("type")->text() != later.find("type")->text();
    if (!base.is_map() || !later.is_map() || type_changes) {
        base = later;
        return;
    }
    for (const config_node::entry& e : later.entries()) {
        if (config_node* existing = base.find(e.key))
            merge_config(*existing, e.value);
        else
            base.set(e.key, e.value, e.key_mark);
    }
    if (later.mark().known()) base.set_mark(later.mark());
}

namespace {

config_node compose(const fs::path& file, std::vector<fs::path>& chain) {
    const fs::path canonical = fs::weakly_canonical(file);
    if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
        std::vector<std::string> names;
        for (const fs::path& p : chain) names.push_back(p.string());
        throw config_error(source_mark{file.string()}, "defaults form a cycle; remove one of the includes",
                           {"chain: " + join(names, " -> ") + " -> " + file.string()});
    }
    config_node own = load_yaml_file(file.string());
    if (own.is_null()) own = config_node::map({file.string(), 1, 1});
    if (!own.is_map()) throw config_error(own.mark(), "an experiment file must be a map of keys (name:, task:, ...)");

    chain.push_back(canonical);
    config_node composed = config_node::map(own.mark());
    if (const config_node* defaults = own.find("defaults")) {
        if (!defaults->is_sequence())
            throw config_error(defaults->mark(),
                               "'defaults' expects a list of YAML files, e.g. [groups/data/fmnist.yaml]");
        for (const config_node& item : defaults->items()) {
            if (!item.is_scalar())
                throw config_error(item.mark(), "'defaults' entries are file paths relative to this file");
            const fs::path included = file.parent_path() / item.text();
            if (!fs::exists(included))
                throw config_error(item.mark(), fmt::format("defaults file '{}' not found (looked for {})", item.text(),
                                                            included.string()));
            merge_config(composed, compose(included, chain));
        }
        own.erase("defaults");
    }
    chain.pop_back();
    merge_config(composed, own);
    // `plugins:` paths are relative to the file that names them; make them absolute here,
    // where that file is known.
    if (config_node* plugins = own.find("plugins"); plugins && plugins->is_sequence()) {
        config_node absolute = config_node::sequence(plugins->mark());
        for (const config_node& p : plugins->items()) {
            const bool is_path =
                p.is_scalar() && (p.text().find('/') != std::string::npos || fs::path(p.text()).extension() == ".so");
            absolute.push_back(
                is_path ? config_node::scalar(fs::absolute(file.parent_path() / p.text()).lexically_normal().string(),
                                              p.mark())
                        : p);
        }
        composed.set("plugins", absolute, own.key_mark("plugins"));
    }
    return composed;
}

// Moves marks parsed from the value text alone onto the override's line and column.
void shift_marks(config_node& node, int line, int column_offset) {
    node.set_mark({node.mark().file, line, node.mark().column + column_offset});
    for (config_node& item : node.items()) shift_marks(item, line, column_offset);
    for (config_node::entry& e : node.entries()) {
        e.key_mark = {e.key_mark.file, line, e.key_mark.column + column_offset};
        shift_marks(e.value, line, column_offset);
    }
}

struct parsed_override {
    std::vector<std::string> path;
    std::vector<source_mark> key_marks;  // one per path segment
    config_node value;
    bool add = false;
};

parsed_override parse_override(const std::string& text, int line) {
    const std::string file = "command line";
    parsed_override o;
    std::size_t pos = 0;
    if (!text.empty() && text[0] == '+') {
        o.add = true;
        pos = 1;
    }
    const std::size_t eq = text.find('=');
    if (eq == std::string::npos || eq == pos)
        throw config_error({file, line, 1}, fmt::format("override '{}' is not key.path=value", text),
                           {"set a key with key.path=value, add one with +key.path=value"});
    std::size_t start = pos;
    while (start <= eq) {
        const std::size_t end = std::min(text.find('.', start), eq);
        if (end == start)
            throw config_error({file, line, static_cast<int>(start) + 1},
                               fmt::format("empty key in override '{}'", text));
        o.path.push_back(text.substr(start, end - start));
        o.key_marks.push_back({file, line, static_cast<int>(start) + 1});
        start = end + 1;
    }
    const int value_column = static_cast<int>(eq) + 2;
    try {
        o.value = parse_yaml(text.substr(eq + 1), file);
    } catch (const config_error&) {
        throw config_error({file, line, value_column},
                           fmt::format("override value '{}' is not valid YAML", text.substr(eq + 1)));
    }
    shift_marks(o.value, line, value_column - 1);
    if (o.value.is_null()) o.value = config_node::scalar("", {file, line, value_column});
    return o;
}

void apply(config_node& root, const parsed_override& o) {
    config_node* node = &root;
    for (std::size_t i = 0; i + 1 < o.path.size(); ++i) {
        config_node* child = node->find(o.path[i]);
        if (!child) child = &node->set(o.path[i], config_node::map(o.key_marks[i]), o.key_marks[i]);
        if (!child->is_map())
            throw config_error(o.key_marks[i + 1], fmt::format("cannot set '{}': '{}' is {}, not a map",
                                                               join(o.path, "."), o.path[i], child->kind_text()));
        node = child;
    }
    const std::string& key = o.path.back();
    const source_mark& key_mark = o.key_marks.back();
    if (o.add && node->find(key))
        throw config_error(
            key_mark, fmt::format("'+{}' adds a key, but '{}' is already set", join(o.path, "."), join(o.path, ".")),
            {"drop the '+' to override its value"});
    if (key == "type" && node->find("type") && node->find("type")->text() != o.value.text()) {
        // A new component type: the other keys were written for the old one.
        config_node fresh = config_node::map(node->mark());
        fresh.set("type", o.value, key_mark);
        *node = fresh;
        return;
    }
    node->set(key, o.value, key_mark);
}

}  // namespace

config_node compose_experiment(const fs::path& file) {
    std::vector<fs::path> chain;
    if (!fs::exists(file)) throw config_error(source_mark{file.string()}, "experiment file not found; check the path");
    return compose(file, chain);
}

void apply_overrides(config_node& experiment, const std::vector<std::string>& overrides) {
    std::vector<parsed_override> parsed;
    for (std::size_t i = 0; i < overrides.size(); ++i)
        parsed.push_back(parse_override(overrides[i], static_cast<int>(i) + 1));
    for (const parsed_override& o : parsed)
        if (o.path.back() == "type") apply(experiment, o);
    for (const parsed_override& o : parsed)
        if (o.path.back() != "type") apply(experiment, o);
}

std::vector<std::pair<std::string, source_mark>> requested_plugins(const config_node& experiment) {
    std::vector<std::pair<std::string, source_mark>> out;
    const config_node* plugins = experiment.find("plugins");
    if (!plugins) return out;
    if (!plugins->is_sequence())
        throw config_error(plugins->mark(), "'plugins' expects a list of plugin names or paths");
    for (const config_node& p : plugins->items()) {
        if (!p.is_scalar()) throw config_error(p.mark(), "'plugins' entries are plugin names or paths");
        out.emplace_back(p.text(), p.mark());
    }
    return out;
}

experiment_options read_experiment(const config_node& resolved) {
    config_node written = resolved;
    written.erase("provenance");
    return experiment_options::params().parse(written, parse_context());
}

namespace {

/// Refuses an experiment without a section its task needs (task::required_sections), at the
/// task's `type:`, so that `difflab check` finds it before a run.
void check_required_sections(const config_node& resolved, const registry& components) {
    const config_node* task = resolved.find("task");
    const config_node* type = task ? task->find("type") : nullptr;
    if (!type || !type->is_scalar()) return;
    const component_info& info = components.at("task", type->text());
    for (const std::string& needed : info.required_sections) {
        const config_node* node = &resolved;
        std::size_t begin = 0;
        while (node && begin <= needed.size()) {
            const std::size_t dot = std::min(needed.find('.', begin), needed.size());
            node = node->find(needed.substr(begin, dot - begin));
            begin = dot + 1;
        }
        if (node && node->is_map()) continue;
        throw config_error(type->mark(), fmt::format("task '{}' needs `{}:`", info.name, needed),
                           {fmt::format("add `{}:` to the experiment (`difflab plugins` lists the types)", needed)});
    }
}

}  // namespace

config_node resolve_experiment(const config_node& experiment, const registry& components) {
    config_node written = experiment;
    written.erase("provenance");
    const param_spec<experiment_options> spec = experiment_options::params();
    config_node resolved = spec.emit(spec.parse(written, parse_context(&components)));
    copy_marks(resolved, written);
    // The grid and the claims are checked now, so that `difflab check` finds their mistakes. A
    // grid's axes may supply a section the task needs, so each variant is checked for them.
    const std::vector<experiment_variant> variants = expand_variants(resolved, components);
    if (variants.empty()) check_required_sections(resolved, components);
    std::vector<std::string> labels;
    for (const experiment_variant& v : variants) {
        check_required_sections(v.experiment, components);
        labels.push_back(v.label);
    }
    parse_claims(*resolved.find("expect"), labels);
    return resolved;
}

config_node load_experiment(const fs::path& file, const std::vector<std::string>& overrides, plugin_loader& plugins,
                            const registry& components) {
    config_node composed = compose_experiment(file);
    apply_overrides(composed, overrides);
    const auto requested = requested_plugins(composed);

    std::vector<fs::path> search = plugin_loader::default_search_path();
    std::vector<fs::path> extra;
    for (const auto& [entry, mark] : requested) {
        if (!fs::path(entry).is_absolute()) continue;  // a name; paths were made absolute while composing
        if (!fs::exists(entry)) throw config_error(mark, fmt::format("plugin path '{}' does not exist", entry));
        extra.emplace_back(entry);
    }
    search.insert(search.end() - 1, extra.begin(), extra.end());
    plugins.load_all(search);

    for (const auto& [entry, mark] : requested) {
        if (fs::path(entry).is_absolute() || plugins.find(entry)) continue;
        std::vector<std::string> searched, names;
        for (const fs::path& p : plugins.searched()) searched.push_back(p.string());
        for (const loaded_plugin& p : plugins.plugins()) names.push_back(p.name);
        throw config_error(mark,
                           fmt::format("plugin '{}' not found on the plugin path{}", entry, did_you_mean(entry, names)),
                           {"searched: " + join(searched),
                            "build it, or add its directory to DIFFLAB_PLUGIN_PATH or to 'plugins:' as a path"});
    }
    return resolve_experiment(composed, components);
}

}  // namespace difflab
