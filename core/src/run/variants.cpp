// SPDX-License-Identifier: Apache-2.0
// Expansion of the `variants:` grid into validated experiments.
#include <difflab/base/suggest.h>
#include <difflab/run/experiment.h>
#include <difflab/run/variants.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace difflab {

namespace {

/// The axis key of arms merged into the whole experiment rather than at one key path.
const std::string whole_experiment = ".";

struct axis_value {
    std::string label;
    config_node value;
};

struct axis {
    std::string path;
    source_mark mark;
    std::vector<axis_value> values;
};

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', start)) {
        parts.push_back(path.substr(start, dot - start));
        start = dot + 1;
    }
    parts.push_back(path.substr(start));
    return parts;
}

std::vector<axis> read_axes(const config_node& variants) {
    if (!variants.is_map())
        throw config_error(variants.mark(),
                           fmt::format("'variants' expects a map of key paths, got {}", variants.kind_text()),
                           {"for example: variants: {sample.sampler.steps: [10, 20, 50]}"});
    std::vector<axis> axes;
    for (const config_node::entry& e : variants.entries()) {
        if (e.key == "exclude") continue;  // rules, not an axis (no experiment key is named so)
        axis a{e.key, e.key_mark.known() ? e.key_mark : e.value.mark(), {}};
        if (e.key == whole_experiment) {
            // Arms that differ in several sections at once: labelled maps merged into the experiment.
            if (!e.value.is_map() || e.value.entries().empty())
                throw config_error(e.value.mark(),
                                   "'variants..' (the whole experiment) expects a map of labelled arms, each a map "
                                   "merged into the experiment",
                                   {"for example: .: {sr3: {task: {method: sr3}, train: {init_from: runs/sr3}}}"});
            for (const config_node::entry& v : e.value.entries()) {
                if (!v.value.is_map())
                    throw config_error(v.value.mark(), fmt::format("arm '{}' of 'variants..' must be a map of "
                                                                   "experiment sections, got {}",
                                                                   v.key, v.value.kind_text()));
                a.values.push_back({v.key, v.value});
            }
            axes.push_back(std::move(a));
            continue;
        }
        for (const std::string& part : split_path(e.key))
            if (part.empty()) throw config_error(a.mark, fmt::format("'variants' key '{}' has an empty part", e.key));
        const std::string last = split_path(e.key).back();
        if (e.value.is_sequence()) {
            for (const config_node& v : e.value.items())
                a.values.push_back({v.is_scalar() ? last + "=" + v.text() : to_flow_yaml(v), v});
        } else if (e.value.is_map()) {
            for (const config_node::entry& v : e.value.entries()) a.values.push_back({v.key, v.value});
        } else {
            throw config_error(
                e.value.mark(),
                fmt::format("'variants.{}' expects a list of values or a map of labelled values, got {}", e.key,
                            e.value.kind_text()),
                {fmt::format("for example: {}: [A, B] or {}: {{label_a: A, label_b: B}}", e.key, e.key)});
        }
        if (a.values.empty()) throw config_error(e.value.mark(), fmt::format("'variants.{}' has no values", e.key));
        axes.push_back(std::move(a));
    }
    return axes;
}

/// One rule of `variants.exclude`: per axis index, the labels it matches (or, `negated`, does not).
struct exclusion {
    struct condition {
        std::size_t axis = 0;
        std::set<std::string> labels;
        bool negated = false;
    };
    std::vector<condition> conditions;

    bool matches(const std::vector<std::string>& labels) const {
        return std::all_of(conditions.begin(), conditions.end(),
                           [&](const condition& c) { return c.labels.count(labels[c.axis]) != (c.negated ? 1u : 0u); });
    }
};

std::set<std::string> labels_at(const config_node& node, const axis& a) {
    std::vector<std::string> known;
    for (const axis_value& v : a.values) known.push_back(v.label);
    std::vector<const config_node*> items;
    if (node.is_sequence())
        for (const config_node& item : node.items()) items.push_back(&item);
    else
        items.push_back(&node);
    std::set<std::string> out;
    for (const config_node* item : items) {
        if (!item->is_scalar())
            throw config_error(item->mark(), fmt::format("'variants.exclude' expects labels of '{}' here", a.path),
                               {"labels: " + join(known)});
        if (std::find(known.begin(), known.end(), item->text()) == known.end())
            throw config_error(item->mark(),
                               fmt::format("'{}' is not a label of axis '{}'{}", item->text(), a.path,
                                           did_you_mean(item->text(), known)),
                               {"labels: " + join(known)});
        out.insert(item->text());
    }
    return out;
}

std::vector<exclusion> read_exclusions(const config_node& variants, const std::vector<axis>& axes) {
    const config_node* rules = variants.find("exclude");
    if (!rules) return {};
    if (!rules->is_sequence())
        throw config_error(rules->mark(), "'variants.exclude' expects a list of rules",
                           {"for example: exclude: [{sample.sampler: rk45, sample.nfe: {not: nfe=0}}]"});
    std::vector<std::string> paths;
    for (const axis& a : axes) paths.push_back(a.path);
    std::vector<exclusion> out;
    for (const config_node& rule : rules->items()) {
        if (!rule.is_map() || rule.entries().empty())
            throw config_error(rule.mark(), "a rule of 'variants.exclude' maps axis key paths to labels",
                               {"for example: {sample.sampler: rk45, sample.nfe: {not: nfe=0}}"});
        exclusion x;
        for (const config_node::entry& e : rule.entries()) {
            const auto at = std::find(paths.begin(), paths.end(), e.key);
            if (at == paths.end())
                throw config_error(
                    e.key_mark.known() ? e.key_mark : e.value.mark(),
                    fmt::format("'{}' is not an axis of 'variants'{}", e.key, did_you_mean(e.key, paths)),
                    {"axes: " + join(paths)});
            exclusion::condition c;
            c.axis = static_cast<std::size_t>(at - paths.begin());
            const config_node* negated = e.value.is_map() ? e.value.find("not") : nullptr;
            if (e.value.is_map() && (!negated || e.value.entries().size() != 1))
                throw config_error(e.value.mark(),
                                   "a condition of 'variants.exclude' is a label, a list of labels "
                                   "or {not: LABELS}");
            c.negated = negated != nullptr;
            c.labels = labels_at(negated ? *negated : e.value, axes[c.axis]);
            x.conditions.push_back(std::move(c));
        }
        out.push_back(std::move(x));
    }
    return out;
}

/// Merges `value` at `path` of `experiment`, creating maps on the way.
void set_at(config_node& experiment, const axis& a, const config_node& value) {
    if (a.path == whole_experiment) {
        merge_config(experiment, value);
        return;
    }
    const std::vector<std::string> parts = split_path(a.path);
    config_node* node = &experiment;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        config_node* child = node->find(parts[i]);
        if (!child) child = &node->set(parts[i], config_node::map(a.mark), a.mark);
        if (!child->is_map())
            throw config_error(a.mark, fmt::format("'variants' cannot set '{}': '{}' is {}, not a map", a.path,
                                                   parts[i], child->kind_text()));
        node = child;
    }
    config_node* target = node->find(parts.back());
    if (parts.back() == "type" && target && target->text() != value.text()) {
        // A new component type: the keys resolved for the old one do not apply.
        config_node fresh = config_node::map(node->mark());
        fresh.set("type", value, a.mark);
        *node = fresh;
    } else if (target) {
        merge_config(*target, value);
    } else {
        node->set(parts.back(), value, a.mark);
    }
}

}  // namespace

std::string slug_of(const std::string& label) {
    std::string slug;
    for (char c : label) {
        const bool keep = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '-' || c == '_';
        if (keep)
            slug += c;
        else if (!slug.empty() && slug.back() != '_')
            slug += '_';
    }
    while (!slug.empty() && slug.back() == '_') slug.pop_back();
    return slug.empty() ? "variant" : slug;
}

std::vector<experiment_variant> expand_variants(const config_node& resolved, const registry& components) {
    const config_node* variants = resolved.find("variants");
    // `variants=~` on the command line leaves an empty scalar: no grid either.
    if (!variants || variants->is_null() || (variants->is_scalar() && variants->text().empty())) return {};
    const std::vector<axis> axes = read_axes(*variants);
    const std::vector<exclusion> exclusions = read_exclusions(*variants, axes);
    config_node base = resolved;
    base.erase("variants");
    base.erase("expect");
    base.erase("provenance");

    std::vector<experiment_variant> out;
    std::set<std::string> slugs;
    std::vector<std::size_t> at(axes.size(), 0);  // an odometer over the axes, last axis fastest
    auto advance = [&] {
        std::size_t i = axes.size();
        while (i > 0 && ++at[i - 1] == axes[i - 1].values.size()) at[--i] = 0;
        return i > 0;  // past the last combination when every axis wrapped
    };
    do {
        experiment_variant v;
        for (std::size_t i = 0; i < axes.size(); ++i) v.labels.push_back(axes[i].values[at[i]].label);
        if (std::any_of(exclusions.begin(), exclusions.end(), [&](const exclusion& x) { return x.matches(v.labels); }))
            continue;
        v.experiment = base;
        for (std::size_t i = 0; i < axes.size(); ++i) {
            const axis_value& chosen = axes[i].values[at[i]];
            set_at(v.experiment, axes[i], chosen.value);
            v.settings.emplace_back(axes[i].path, chosen.value);
        }
        v.label = fmt::format("{}", fmt::join(v.labels, ", "));
        for (const experiment_variant& earlier : out)
            if (earlier.label == v.label)
                throw config_error(variants->mark(), fmt::format("two variants are both labelled '{}'", v.label),
                                   {"label the values with the map form: KEY.PATH: {label_a: A, label_b: B}"});
        v.slug = slug_of(v.label);
        for (int n = 2; slugs.count(v.slug); ++n) v.slug = slug_of(v.label) + "_" + std::to_string(n);
        slugs.insert(v.slug);
        v.experiment = resolve_experiment(v.experiment, components);
        v.experiment.erase("variants");
        v.experiment.erase("expect");
        out.push_back(std::move(v));
    } while (advance());
    if (out.empty()) throw config_error(variants->mark(), "'variants.exclude' leaves no combination to run");
    return out;
}

std::string model_key(const config_node& experiment) {
    config_node model = experiment;
    for (const char* key : {"name", "description", "sample", "evaluate", "expect", "variants", "provenance"})
        model.erase(key);
    return to_yaml(model);
}

}  // namespace difflab
