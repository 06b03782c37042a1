// SPDX-License-Identifier: Apache-2.0
// results.csv, report.md and plots of a variant grid.
#include <difflab/atomic_file.h>
#include <difflab/comparison_report.h>
#include <difflab/plot.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
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

/// One plot per metric against NFE, a line per sampler type; names of the PNGs made.
std::vector<std::string> plot_against_nfe(const fs::path& dir, const std::vector<variant_outcome>& outcomes,
                                          const std::vector<std::string>& metrics) {
    std::set<double> nfes;
    for (const variant_outcome& o : outcomes) nfes.insert(o.metrics.nfe);
    std::vector<std::string> made;
    if (nfes.size() < 2) return made;
    for (const std::string& metric : metrics) {
        std::map<std::string, plot_series> by_sampler;
        for (const variant_outcome& o : outcomes) {
            const std::string value = value_text(o, metric);
            if (value.empty() || value == "nan") continue;
            plot_series& s = by_sampler[sampler_type(o)];
            s.label = sampler_type(o);
            s.x.push_back(o.metrics.nfe);
            s.y.push_back(std::stod(value));
        }
        std::vector<plot_series> series;
        for (auto& [type, s] : by_sampler) {
            // Sorted by NFE so that each line runs left to right.
            std::vector<std::size_t> order(s.x.size());
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
            std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
            plot_series sorted{s.label, {}, {}};
            for (std::size_t i : order) {
                sorted.x.push_back(s.x[i]);
                sorted.y.push_back(s.y[i]);
            }
            series.push_back(std::move(sorted));
        }
        if (series.empty()) continue;
        const std::string base = metric + "_vs_nfe";
        if (write_line_plot(dir / base, series, {metric + " against network evaluations", "NFE", metric, true, false}))
            made.push_back(base + ".png");
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
    for (const std::string& png : plot_against_nfe(dir, outcomes, metrics))
        md += fmt::format("\n![{}]({})\n", png, png);
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
