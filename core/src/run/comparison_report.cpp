// SPDX-License-Identifier: Apache-2.0
// results.csv, report.md and plots of a variant grid.
#include <difflab/io/atomic_file.h>
#include <difflab/io/plot.h>
#include <difflab/run/comparison_report.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace difflab {

namespace fs = std::filesystem;

namespace {

/// Metric names in the order first met.
std::vector<std::string> metric_names(const std::vector<variant_outcome>& outcomes) {
    std::vector<std::string> names;
    for (const variant_outcome& o : outcomes)
        for (const auto& [name, value] : o.metrics.values)
            if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    return names;
}

std::string value_text(const variant_outcome& o, const std::string& metric) {
    for (const auto& [name, value] : o.metrics.values)
        if (name == metric) return std::isfinite(value) ? fmt::format("{:.6g}", value) : "nan";
    return "";
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

std::string axis_text(const config_node& value) {
    return value.is_scalar() ? value.text() : to_flow_yaml(value);
}

std::string sampler_type(const variant_outcome& o) {
    const config_node* sample = o.variant->experiment.find("sample");
    const config_node* sampler = sample ? sample->find("sampler") : nullptr;
    const config_node* type = sampler && sampler->is_map() ? sampler->find("type") : nullptr;
    return type ? type->text() : "none";
}

/// The variant's values on the axes that `keep(path, index)` selects, as "path=value, ...".
template <class Keep>
std::string axes_label(const variant_outcome& o, Keep keep) {
    std::string label;
    for (std::size_t i = 0; i < o.variant->settings.size(); ++i) {
        const auto& [path, value] = o.variant->settings[i];
        if (keep(path, i)) label += (label.empty() ? "" : ", ") + path + "=" + axis_text(value);
    }
    return label;
}

/// The series as lines running left to right.
std::vector<plot_series> sorted_by_x(std::map<std::string, plot_series> lines) {
    std::vector<plot_series> series;
    for (auto& [label, s] : lines) {
        std::vector<std::size_t> order(s.x.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
        plot_series sorted{label, {}, {}};
        for (std::size_t i : order) {
            sorted.x.push_back(s.x[i]);
            sorted.y.push_back(s.y[i]);
        }
        series.push_back(std::move(sorted));
    }
    return series;
}

/// One plot per metric: the metric against `x_of`, a line per `line_of`; names of the PNGs made.
template <class XOf, class LineOf>
std::vector<std::string> plot_metrics(const fs::path& dir, const std::vector<variant_outcome>& outcomes,
                                      const std::vector<std::string>& metrics, const std::string& x_name,
                                      const std::string& x_label, bool log_x, XOf x_of, LineOf line_of) {
    std::vector<std::string> made;
    for (const std::string& metric : metrics) {
        std::map<std::string, plot_series> lines;
        for (const variant_outcome& o : outcomes) {
            const std::string value = value_text(o, metric);
            if (value.empty() || value == "nan") continue;
            plot_series& s = lines[line_of(o)];
            s.x.push_back(x_of(o));
            s.y.push_back(std::stod(value));
        }
        if (lines.empty()) continue;
        const std::string base = metric + "_vs_" + x_name;
        if (write_line_plot(dir / base, sorted_by_x(std::move(lines)),
                            {metric + " against " + x_label, x_label, metric, log_x, false}))
            made.push_back(base + ".png");
    }
    return made;
}

/// The number a scalar axis value spells, if it spells one.
std::optional<double> number(const config_node& value) {
    if (!value.is_scalar() || value.text().empty()) return std::nullopt;
    char* end = nullptr;
    const double x = std::strtod(value.text().c_str(), &end);
    if (*end != '\0' || !std::isfinite(x)) return std::nullopt;
    return x;
}

/// Plots against NFE, when the variants differ in NFE, with a line per sampler type and value of
/// the axes that do not set the sampler (process.schedule=cosine); then, for each axis whose
/// values are all numbers and not all equal (train.steps: [500, 1000, 2000]), plots against it
/// with a line per combination of the other axes. Names of the PNGs made.
std::vector<std::string> plot_results(const fs::path& dir, const std::vector<variant_outcome>& outcomes,
                                      const std::vector<std::string>& metrics) {
    std::vector<std::string> made;
    std::set<double> nfes;
    for (const variant_outcome& o : outcomes) nfes.insert(o.metrics.nfe);
    if (nfes.size() >= 2)
        made = plot_metrics(
            dir, outcomes, metrics, "nfe", "network evaluations", true,
            [](const variant_outcome& o) { return o.metrics.nfe; },
            [](const variant_outcome& o) {
                // Variants that differ in more than the sampler get lines of their own.
                const std::string others = axes_label(
                    o, [](const std::string& path, std::size_t) { return path.rfind("sample.sampler", 0) != 0; });
                return others.empty() ? sampler_type(o) : sampler_type(o) + ", " + others;
            });
    if (outcomes.empty()) return made;
    const std::size_t axis_count = outcomes.front().variant->settings.size();
    for (std::size_t axis = 0; axis < axis_count; ++axis) {
        std::set<double> values;
        bool numeric = true;
        for (const variant_outcome& o : outcomes) {
            const std::optional<double> x = number(o.variant->settings[axis].second);
            numeric = numeric && x.has_value();
            if (x) values.insert(*x);
        }
        if (!numeric || values.size() < 2) continue;
        const std::string& path = outcomes.front().variant->settings[axis].first;
        const std::string name = path.substr(path.rfind('.') + 1);
        // A log axis when the values span a decade or more, as step counts and noise levels do.
        const bool log_x = *values.begin() > 0 && *values.rbegin() >= 10 * *values.begin();
        const auto x_of = [axis](const variant_outcome& o) { return *number(o.variant->settings[axis].second); };
        const auto line_of = [axis](const variant_outcome& o) {
            const std::string label = axes_label(o, [axis](const std::string&, std::size_t i) { return i != axis; });
            return label.empty() ? std::string("all") : label;
        };
        for (std::string& png : plot_metrics(dir, outcomes, metrics, name, path, log_x, x_of, line_of))
            made.push_back(std::move(png));
    }
    return made;
}

}  // namespace

std::string claims_markdown(const std::vector<claim_outcome>& claims) {
    if (claims.empty()) return "";
    std::string md = "\n## Claims\n\n| claim | held | numbers |\n|---|---|---|\n";
    for (const claim_outcome& c : claims)
        md += fmt::format("| {} | {} | {} |\n", c.checked.text(), c.held ? "yes" : "**no**", c.detail);
    return md;
}

void write_comparison_report(const fs::path& dir, const std::string& title,
                             const std::vector<variant_outcome>& outcomes, const std::vector<claim_outcome>& claims) {
    const std::vector<std::string> metrics = metric_names(outcomes);
    std::vector<std::string> axes;
    if (!outcomes.empty())
        for (const auto& [path, value] : outcomes.front().variant->settings) axes.push_back(path);

    std::string csv = "variant";
    for (const std::string& a : axes) csv += "," + csv_field(a);
    csv += ",nfe";
    for (const std::string& m : metrics) csv += "," + csv_field(m);
    csv += "\n";
    std::string table = "| variant | NFE |";
    for (const std::string& m : metrics) table += " " + m + " |";
    table += "\n|---|---|";
    for (std::size_t i = 0; i < metrics.size(); ++i) table += "---|";
    table += "\n";
    for (const variant_outcome& o : outcomes) {
        csv += csv_field(o.variant->label);
        for (const auto& [path, value] : o.variant->settings) csv += "," + csv_field(axis_text(value));
        csv += fmt::format(",{:g}", o.metrics.nfe);
        table += fmt::format("| {} | {:g} |", o.variant->label, o.metrics.nfe);
        for (const std::string& m : metrics) {
            const std::string v = value_text(o, m);
            csv += "," + v;
            table += " " + (v.empty() ? std::string("–") : v) + " |";
        }
        csv += "\n";
        table += "\n";
    }
    write_file_atomically(dir / "results.csv", csv);

    std::string md = fmt::format("# {}\n\n{} variants; the protocol of each value is in its metrics.json.\n\n{}", title,
                                 outcomes.size(), table);
    for (const std::string& png : plot_results(dir, outcomes, metrics)) md += fmt::format("\n![{}]({})\n", png, png);
    md += claims_markdown(claims);
    std::string grids;
    for (const variant_outcome& o : outcomes) {
        const fs::path grid = o.dir / "grid.png";
        if (fs::exists(grid))
            grids += fmt::format("\n{}: ![{}]({})\n", o.variant->label, o.variant->label,
                                 fs::relative(grid, dir).generic_string());
    }
    if (!grids.empty()) md += "\n## Samples\n" + grids;
    write_file_atomically(dir / "report.md", md);
}

}  // namespace difflab
