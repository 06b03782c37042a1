// SPDX-License-Identifier: Apache-2.0
// results.csv, report.md and plots of a variant grid.
#include <difflab/io/atomic_file.h>
#include <difflab/io/plot.h>
#include <difflab/run/comparison_report.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace difflab {

namespace fs = std::filesystem;

namespace {

/// The axis whose values are NFE budgets (sampling_options::nfe).
const std::string nfe_axis = "sample.nfe";

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

/// The variant's values on the axes that `keep(path, index)` selects, as "path=value, ...". A
/// value that is a map or a list (a named axis value such as `simplex: {noise: ...}`) stands as
/// its name, which says more in a legend than the settings written out.
template <class Keep>
std::string axes_label(const variant_outcome& o, Keep keep) {
    std::string label;
    for (std::size_t i = 0; i < o.variant->settings.size(); ++i) {
        const auto& [path, value] = o.variant->settings[i];
        if (!keep(path, i)) continue;
        const bool named = !value.is_scalar() && i < o.variant->labels.size();
        label += (label.empty() ? "" : ", ") + (named ? o.variant->labels[i] : path + "=" + axis_text(value));
    }
    return label;
}

/// The series as lines running left to right.
std::vector<plot_series> sorted_by_x(std::map<std::string, plot_series> lines) {
    std::vector<plot_series> series;
    for (const auto& line : lines) {
        const std::string& label = line.first;
        const plot_series& s = line.second;  // not a structured binding: C++17 lambdas cannot capture one
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
                                      const std::vector<std::string>& metrics, bool pivoted) {
    std::vector<std::string> made;
    std::set<double> nfes;
    for (const variant_outcome& o : outcomes) nfes.insert(o.metrics.nfe);
    if (nfes.size() >= 2 && !pivoted)
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
        const std::string& path = outcomes.front().variant->settings[axis].first;
        if (!numeric || values.size() < 2 || (pivoted && path == nfe_axis)) continue;
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

/// Where the pivot tables of a grid come from: the `sample.nfe` axis (columns), the axes that
/// set the sampler (rows) and the others (one section each).
struct pivot_axes {
    std::size_t nfe = 0;
    std::vector<std::size_t> rows, groups;
};

/// The pivot's axes when the grid has a `sample.nfe` axis and one that sets the sampler.
std::optional<pivot_axes> pivot_of(const std::vector<variant_outcome>& outcomes) {
    if (outcomes.empty()) return std::nullopt;
    pivot_axes out;
    bool has_nfe = false;
    const auto& settings = outcomes.front().variant->settings;
    for (std::size_t i = 0; i < settings.size(); ++i) {
        const std::string& path = settings[i].first;
        if (path == nfe_axis) {
            out.nfe = i;
            has_nfe = true;
        } else if (path.rfind("sample.sampler", 0) == 0) {
            out.rows.push_back(i);
        } else {
            out.groups.push_back(i);
        }
    }
    if (!has_nfe || out.rows.empty()) return std::nullopt;
    return out;
}

/// The labels of `o` on `axes`, joined with ", "; with `paths`, each as "path label".
std::string labels_on(const variant_outcome& o, const std::vector<std::size_t>& axes, bool paths) {
    std::string out;
    for (std::size_t i : axes)
        out += (out.empty() ? "" : ", ") + (paths ? o.variant->settings[i].first + " " : std::string()) +
               o.variant->labels[i];
    return out;
}

std::optional<double> value_of(const variant_outcome& o, const std::string& metric) {
    for (const auto& [name, value] : o.metrics.values)
        if (name == metric && std::isfinite(value)) return value;
    return std::nullopt;
}

/// The budget a variant's `sample.nfe` asks for (0: the sampler as configured).
double budget_of(const variant_outcome& o, std::size_t nfe_index) {
    return number(o.variant->settings[nfe_index].second).value_or(0);
}

/// One section per combination of the group axes: for each metric a table with a row per
/// sampler and a column per budget (the NFE spent in parentheses where it differs), or one line
/// when the metric has one value throughout; and a plot of each metric against the NFE spent
/// with a line per sampler, plus a `<metric>_floor` value as a horizontal line.
std::string pivot_sections(const fs::path& dir, const std::vector<variant_outcome>& outcomes,
                           const std::vector<std::string>& metrics, const pivot_axes& axes) {
    std::vector<std::string> groups;
    for (const variant_outcome& o : outcomes) {
        const std::string g = labels_on(o, axes.groups, true);
        if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    std::string md;
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
        std::vector<const variant_outcome*> in;
        std::vector<std::string> rows;
        std::vector<double> budgets;
        for (const variant_outcome& o : outcomes) {
            if (labels_on(o, axes.groups, true) != groups[gi]) continue;
            in.push_back(&o);
            const std::string row = labels_on(o, axes.rows, false);
            if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
            const double b = budget_of(o, axes.nfe);
            if (std::find(budgets.begin(), budgets.end(), b) == budgets.end()) budgets.push_back(b);
        }
        // Budgets ascending, the samplers as configured (0) last.
        auto order = [](double b) { return b <= 0 ? std::numeric_limits<double>::infinity() : b; };
        std::sort(budgets.begin(), budgets.end(), [&](double a, double b) { return order(a) < order(b); });
        md += groups[gi].empty() ? std::string("\n## Against NFE\n") : fmt::format("\n## {}\n", groups[gi]);
        std::string plots;
        const std::string slug = groups[gi].empty() ? "all" : slug_of(labels_on(*in.front(), axes.groups, false));
        for (const std::string& metric : metrics) {
            std::set<double> values;
            for (const variant_outcome* o : in)
                if (const auto v = value_of(*o, metric)) values.insert(*v);
            if (values.empty()) continue;
            if (values.size() == 1) {
                md += fmt::format("\n`{}` = {:.4g} in every variant.\n", metric, *values.begin());
                continue;
            }
            std::string table = "| sampler |", rule = "|---|";
            for (double b : budgets) {
                table += b > 0 ? fmt::format(" NFE {:g} |", b) : std::string(" as configured |");
                rule += "---:|";
            }
            table += "\n" + rule + "\n";
            std::map<std::string, plot_series> lines;
            for (const std::string& row : rows) {
                std::string line = fmt::format("| {} |", row);
                bool any = false;
                for (double b : budgets) {
                    std::string text = "—";
                    for (const variant_outcome* o : in) {
                        if (labels_on(*o, axes.rows, false) != row || budget_of(*o, axes.nfe) != b) continue;
                        const auto v = value_of(*o, metric);
                        if (!v) break;
                        text = fmt::format("{:.4g}", *v);
                        if (o->metrics.nfe != b) text += fmt::format(" ({:g})", o->metrics.nfe);
                        any = true;
                        plot_series& s = lines[row];
                        s.x.push_back(o->metrics.nfe);
                        s.y.push_back(*v);
                    }
                    line += " " + text + " |";
                }
                if (any) table += line + "\n";
            }
            md += fmt::format("\n`{}`:\n\n{}", metric, table);
            // Lines in the rows' order (the grid's), not alphabetically.
            std::vector<plot_series> series;
            for (plot_series& s : sorted_by_x(lines)) series.push_back(std::move(s));
            std::stable_sort(series.begin(), series.end(), [&](const plot_series& a, const plot_series& b) {
                return std::find(rows.begin(), rows.end(), a.label) < std::find(rows.begin(), rows.end(), b.label);
            });
            double lo = std::numeric_limits<double>::infinity(), hi = 0, y_min = 1;
            for (const plot_series& s : series)
                for (std::size_t k = 0; k < s.x.size(); ++k) {
                    lo = std::min(lo, s.x[k]);
                    hi = std::max(hi, s.x[k]);
                    y_min = std::min(y_min, s.y[k]);
                }
            std::set<double> floor;
            for (const variant_outcome* o : in)
                if (const auto v = value_of(*o, metric + "_floor")) floor.insert(*v);
            if (floor.size() == 1) series.push_back({metric + "_floor", {lo, hi}, {*floor.begin(), *floor.begin()}});
            const std::string base = fmt::format("{}_vs_nfe_{}_{}", metric, gi, slug);
            const std::string title = groups[gi].empty() ? metric + " against NFE" : metric + ", " + groups[gi];
            if (write_line_plot(dir / base, series, {title, "network evaluations", metric, true, y_min > 0}))
                plots += fmt::format("![{0}]({0}.png) ", base);
            else
                plots += fmt::format("[{0}.csv]({0}.csv) ", base);
        }
        if (!plots.empty()) md += "\n" + plots + "\n";
    }
    return md;
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
    std::vector<variant_outcome> ran;
    std::string not_run;
    for (const variant_outcome& o : outcomes) {
        csv += csv_field(o.variant->label);
        for (const auto& [path, value] : o.variant->settings) csv += "," + csv_field(axis_text(value));
        if (!o.not_run.empty()) {  // the row stays, its cells empty
            csv += "," + std::string(metrics.size(), ',') + "\n";
            not_run += fmt::format("- {}: {}\n", o.variant->label, o.not_run);
            continue;
        }
        ran.push_back(o);
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

    const std::optional<pivot_axes> pivot = pivot_of(ran);
    std::string md =
        fmt::format("# {}\n\n{} variants{}; the protocol of each value is in its metrics.json.\n", title,
                    outcomes.size(), ran.size() == outcomes.size() ? "" : fmt::format(", {} run", ran.size()));
    if (pivot)  // hundreds of rows: results.csv has them, the sections below pivot them
        md += fmt::format(
            "\nresults.csv has a row per variant. {}: a table per metric with a row per sampler and a column per "
            "NFE budget (`sample.nfe`; the NFE spent in parentheses where it differs), and each metric against the "
            "NFE spent.\n{}",
            pivot->groups.empty() ? "For the grid" : "Per value of the other axes",
            pivot_sections(dir, ran, metrics, *pivot));
    else
        md += "\n" + table;
    for (const std::string& png : plot_results(dir, ran, metrics, pivot.has_value()))
        md += fmt::format("\n![{}]({})\n", png, png);
    if (!not_run.empty()) md += "\n## Variants not run\n\n" + not_run;
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
