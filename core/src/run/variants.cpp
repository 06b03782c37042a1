// SPDX-License-Identifier: Apache-2.0
// Expansion of the `variants:` grid into validated experiments.
#include <difflab/run/experiment.h>
#include <difflab/run/variants.h>
#include <fmt/format.h>

#include <cctype>
#include <set>

namespace difflab {

namespace {

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
        axis a{e.key, e.key_mark.known() ? e.key_mark : e.value.mark(), {}};
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

/// Merges `value` at `path` of `experiment`, creating maps on the way.
void set_at(config_node& experiment, const axis& a, const config_node& value) {
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

}  // namespace

std::vector<experiment_variant> expand_variants(const config_node& resolved, const registry& components) {
    const config_node* variants = resolved.find("variants");
    // `variants=~` on the command line leaves an empty scalar: no grid either.
    if (!variants || variants->is_null() || (variants->is_scalar() && variants->text().empty())) return {};
    const std::vector<axis> axes = read_axes(*variants);
    config_node base = resolved;
    base.erase("variants");
    base.erase("expect");
    base.erase("provenance");

    std::vector<experiment_variant> out;
    std::set<std::string> slugs;
    std::vector<std::size_t> at(axes.size(), 0);  // an odometer over the axes, last axis fastest
    while (true) {
        experiment_variant v;
        v.experiment = base;
        std::vector<std::string> labels;
        for (std::size_t i = 0; i < axes.size(); ++i) {
            const axis_value& chosen = axes[i].values[at[i]];
            set_at(v.experiment, axes[i], chosen.value);
            v.settings.emplace_back(axes[i].path, chosen.value);
            labels.push_back(chosen.label);
        }
        v.label = fmt::format("{}", fmt::join(labels, ", "));
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

        std::size_t i = axes.size();
        while (i > 0 && ++at[i - 1] == axes[i - 1].values.size()) at[--i] = 0;
        if (i == 0) break;
    }
    return out;
}

std::string model_key(const config_node& experiment) {
    config_node model = experiment;
    for (const char* key : {"name", "description", "sample", "evaluate", "expect", "variants", "provenance"})
        model.erase(key);
    return to_yaml(model);
}

}  // namespace difflab
