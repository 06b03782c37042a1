// SPDX-License-Identifier: Apache-2.0
// The 'sampler_comparison' task: samplers x processes x NFE on a Gaussian-mixture oracle.
#include "sampler_comparison_task.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/plot.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>

#include "exact_gmm_denoiser.h"
#include "gmm_dataset.h"
#include "sample_statistics.h"

namespace difflab::plugins {

namespace {

constexpr double not_measured = std::numeric_limits<double>::quiet_NaN();

/// One row of results.csv.
struct cell {
    std::string process, sampler;
    std::int64_t budget = 0;  ///< the NFE asked for; 0 for an adaptive sampler run as configured
    std::int64_t nfe = 0;     ///< evaluations actually spent per sample
    std::int64_t steps = 0;   ///< the `steps` chosen (0 when the sampler has none)
    double sliced_w2 = not_measured, mean_error = not_measured, covariance_error = not_measured;
    double ode_error = not_measured, seconds = 0;
};

/// Rows of a batch of examples as an N x D matrix.
Eigen::MatrixXd rows_of(const tensor& batch) {
    const std::vector<float> values = batch.contiguous().to_vector();
    const Eigen::Index n = batch.size(0), d = static_cast<Eigen::Index>(values.size()) / std::max<Eigen::Index>(n, 1);
    return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(values.data(), n, d)
        .cast<double>();
}

/// Runs `s` over x_T in batches; row i keeps its noise stream whatever the batch size.
Eigen::MatrixXd sample_rows(const sampler& s, const denoiser& d, const tensor& x_T, std::int64_t batch_size,
                            std::uint64_t seed) {
    const std::int64_t n = x_T.size(0);
    Eigen::MatrixXd out;
    for (std::int64_t begin = 0; begin < n; begin += batch_size) {
        const std::int64_t end = std::min(n, begin + batch_size);
        sampling_context ctx;
        ctx.seed = seed;
        ctx.first_index = static_cast<std::uint64_t>(begin);
        const Eigen::MatrixXd part = rows_of(s.sample(d, x_T.slice(0, begin, end).contiguous(), ctx));
        if (out.size() == 0) out.resize(n, part.cols());
        out.middleRows(begin, end - begin) = part;
    }
    return out;
}

bool has_key(const component_info& info, const std::string& key) {
    return std::any_of(info.params.begin(), info.params.end(), [&](const param_info& p) { return p.key == key; });
}

/// A sampler built from its resolved node, with `steps` replaced when given.
std::unique_ptr<sampler> build_sampler(build_context& builder, config_node node, std::optional<std::int64_t> steps) {
    if (steps) node.set("steps", config_node::scalar(std::to_string(*steps)));
    const registry& components = builder.components();
    const config_node resolved = components.resolve("sampler", node, parse_context(&components));
    return std::unique_ptr<sampler>(static_cast<sampler*>(builder.create("sampler", resolved).release()));
}

/// "type" and the options that differ from the type's defaults, `steps` aside:
/// "dpm_solver (order: 3, method: singlestep)", "ddpm (schedule: cosine)".
std::string label_of(const registry& components, const std::string& kind, const config_node& node) {
    const std::string type = node.find("type")->text();
    config_node bare = config_node::map();
    bare.set("type", config_node::scalar(type));
    const config_node defaults = components.resolve(kind, bare, parse_context(&components));
    std::string changed;
    for (const auto& entry : node.entries()) {
        if (entry.key == "type" || entry.key == "steps") continue;
        const config_node* default_value = defaults.find(entry.key);
        const std::string value = to_yaml(entry.value);
        if (default_value && to_yaml(*default_value) == value) continue;
        std::string shown = entry.value.is_scalar() ? entry.value.text() : value;
        while (!shown.empty() && (shown.back() == '\n' || shown.back() == ' ')) shown.pop_back();
        changed += fmt::format("{}{}: {}", changed.empty() ? "" : ", ", entry.key, shown);
    }
    return changed.empty() ? type : fmt::format("{} ({})", type, changed);
}

/// The largest `steps` in [1, budget] whose evaluations fit the budget (evaluations grow
/// with steps); nullopt when even one step costs more.
std::optional<std::int64_t> steps_for(build_context& builder, const config_node& node, const process& p,
                                      std::int64_t budget) {
    auto cost = [&](std::int64_t steps) { return build_sampler(builder, node, steps)->evaluations(p); };
    if (cost(1) > budget) return std::nullopt;
    std::int64_t lo = 1, hi = budget;  // cost(lo) <= budget
    while (lo < hi) {
        const std::int64_t mid = lo + (hi - lo + 1) / 2;
        if (cost(mid) <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

std::string number(double value) {
    return std::isnan(value) ? "" : fmt::format("{:.4g}", value);
}

/// A label as a CSV field: quoted, with quotes doubled (labels hold commas).
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return out + "\"";
}

std::string csv_text(const std::vector<cell>& cells) {
    std::string out = "process,sampler,budget,nfe,steps,sliced_w2,mean_error,covariance_error,ode_error,seconds\n";
    for (const cell& c : cells)
        out += fmt::format("{},{},{},{},{},{},{},{},{},{:.3f}\n", quoted(c.process), quoted(c.sampler), c.budget, c.nfe,
                           c.steps, number(c.sliced_w2), number(c.mean_error), number(c.covariance_error),
                           number(c.ode_error), c.seconds);
    return out;
}

/// A markdown table of one measure for one process: a row per sampler, a column per budget
/// ("as configured" for budget 0). Samplers with no value in any column are left out.
std::string table(const std::vector<cell>& cells, const std::string& process, double cell::*measure) {
    std::vector<std::int64_t> budgets;
    std::vector<std::string> samplers;
    for (const cell& c : cells) {
        if (c.process != process) continue;
        if (std::find(budgets.begin(), budgets.end(), c.budget) == budgets.end()) budgets.push_back(c.budget);
        if (std::find(samplers.begin(), samplers.end(), c.sampler) == samplers.end()) samplers.push_back(c.sampler);
    }
    // Budgets ascending, "as configured" (0) last.
    auto order = [](std::int64_t b) { return b == 0 ? std::numeric_limits<std::int64_t>::max() : b; };
    std::sort(budgets.begin(), budgets.end(), [&](std::int64_t a, std::int64_t b) { return order(a) < order(b); });
    std::string out = "| sampler |", rule = "|---|";
    for (std::int64_t b : budgets) {
        out += b > 0 ? fmt::format(" NFE {} |", b) : std::string(" as configured |");
        rule += "---:|";
    }
    out += "\n" + rule + "\n";
    for (const std::string& s : samplers) {
        std::string row = fmt::format("| {} |", s);
        bool any = false;
        for (std::int64_t b : budgets) {
            const auto found = std::find_if(cells.begin(), cells.end(), [&](const cell& c) {
                return c.process == process && c.sampler == s && c.budget == b;
            });
            std::string text = "—";
            if (found != cells.end() && !std::isnan((*found).*measure)) {
                text = number((*found).*measure);
                if (found->nfe != found->budget) text += fmt::format(" ({})", found->nfe);
                any = true;
            }
            row += " " + text + " |";
        }
        if (any) out += row + "\n";
    }
    return out;
}

/// Error-vs-NFE lines for one process, one per sampler, with a reference line when given.
std::vector<plot_series> series_of(const std::vector<cell>& cells, const std::string& process, double cell::*measure,
                                   const std::string& reference_label = "", double reference = not_measured) {
    std::vector<plot_series> out;
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const cell& c : cells) {
        if (c.process != process || std::isnan(c.*measure)) continue;
        auto line = std::find_if(out.begin(), out.end(), [&](const plot_series& s) { return s.label == c.sampler; });
        if (line == out.end()) line = out.insert(out.end(), plot_series{c.sampler, {}, {}});
        line->x.push_back(static_cast<double>(c.nfe));
        line->y.push_back(c.*measure);
        lo = std::min(lo, static_cast<double>(c.nfe));
        hi = std::max(hi, static_cast<double>(c.nfe));
    }
    if (!reference_label.empty() && !out.empty()) out.push_back({reference_label, {lo, hi}, {reference, reference}});
    return out;
}

}  // namespace

param_spec<sampler_comparison_task::options> sampler_comparison_task::params() {
    param_spec<options> spec{
        "Every sampler on every process at equal NFE on a Gaussian-mixture oracle (exact denoiser): sliced W2, "
        "moment errors and the error to the exact ODE solution, as a table and error-vs-NFE plots."};
    spec.add(&options::processes, "processes", "Processes to compare on.");
    spec.add(&options::samplers, "samplers", "Samplers to compare (their `steps` is set from each NFE budget).");
    spec.add(&options::nfe, "nfe",
             "Evaluation budgets; empty runs each sampler as configured (a conformance check at its own NFE).",
             at_least<std::int64_t>(1));
    spec.add(&options::count, "count", "Samples per cell (and exact data samples to compare with).",
             at_least<std::int64_t>(2));
    spec.add(&options::batch_size, "batch_size", "Samples per sampler call (results do not depend on it).",
             at_least<std::int64_t>(1));
    spec.add(&options::reference_count, "reference_count",
             "Samples compared with the exact ODE solution (deterministic samplers; 0 skips).",
             at_least<std::int64_t>(0));
    spec.add(&options::reference_tolerance, "reference_tolerance",
             "rtol = atol of the rk45 reference solution of the probability-flow ODE.", greater_than(0.0));
    spec.add(&options::projections, "projections", "Random directions of the sliced Wasserstein distance.",
             at_least<std::int64_t>(1));
    spec.add(&options::max_sliced_w2, "max_sliced_w2", "Fail the run when a cell's sliced W2 exceeds this (0: never).",
             at_least(0.0));
    return spec;
}

sampler_comparison_task::sampler_comparison_task(const options& opts, build_context&) : opts_(opts) {}

void sampler_comparison_task::run(run_context& ctx) {
    const std::unique_ptr<dataset> data = ctx.build<dataset>("data");
    const auto* gmm = dynamic_cast<const gmm_dataset*>(data.get());
    if (!gmm)
        throw config_error("task 'sampler_comparison' needs `data: {type: gmm, ...}`, whose exact denoiser it uses");
    if (opts_.processes.empty() || opts_.samplers.empty())
        throw config_error("task 'sampler_comparison' needs at least one entry in `processes` and `samplers`");
    build_context& builder = ctx.builder();
    const registry& components = builder.components();
    const gaussian_mixture& mixture = gmm->mixture();
    const std::uint64_t seed = ctx.seed();

    // Exact data: `count` samples to compare with, and pairs of other exact sets for the floor of
    // the sliced W2 at this sample size: what a perfect sampler scores. W2 between finite samples
    // of a multimodal law swings with how many samples land in each mode, so the floor is a range
    // over `floor_pairs` pairs, not one number.
    constexpr std::int64_t floor_pairs = 8;
    std::vector<std::int64_t> indices(static_cast<std::size_t>((1 + 2 * floor_pairs) * opts_.count));
    for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<std::int64_t>(i);
    const Eigen::MatrixXd exact_all = rows_of(data->get(indices).x);
    const Eigen::MatrixXd exact = exact_all.topRows(opts_.count);
    std::vector<double> floors;
    for (std::int64_t k = 0; k < floor_pairs; ++k)
        floors.push_back(sliced_wasserstein(exact_all.middleRows((1 + 2 * k) * opts_.count, opts_.count),
                                            exact_all.middleRows((2 + 2 * k) * opts_.count, opts_.count),
                                            opts_.projections, seed));
    const double floor_mean = std::accumulate(floors.begin(), floors.end(), 0.0) / static_cast<double>(floor_pairs);
    const auto [floor_min, floor_max] = std::minmax_element(floors.begin(), floors.end());

    shape_t shape{opts_.count};
    for (std::int64_t s : gmm->example_shape()) shape.push_back(s);
    const tensor noise = randn(shape, seed, random_purpose("oracle/prior"));
    const std::int64_t reference_rows = std::min(opts_.reference_count, opts_.count);

    std::vector<cell> cells;
    std::vector<std::string> process_names, refusals;
    for (const component_ref<process>& process_ref : opts_.processes) {
        const std::unique_ptr<process> p = builder.create(process_ref);
        const std::string process_name = label_of(components, "process", process_ref.node());
        process_names.push_back(process_name);
        const exact_gmm_denoiser d(*p, mixture);
        const tensor x_T = noise * static_cast<float>(p->prior_std());
        log_info("sampler_comparison: process {}", process_name);

        std::optional<Eigen::MatrixXd> reference;  // the exact ODE solution, computed when first needed
        auto reference_solution = [&]() -> const Eigen::MatrixXd& {
            if (!reference) {
                if (!components.find("sampler", "ode"))
                    throw config_error(
                        "task 'sampler_comparison' needs sampler 'ode' (plugin score_sde) for its ODE "
                        "reference; load it, or set reference_count: 0");
                config_node node = config_node::map();
                node.set("type", config_node::scalar("ode"));
                node.set("method", config_node::scalar("rk45"));
                node.set("rtol", config_node::scalar(fmt::format("{:g}", opts_.reference_tolerance)));
                node.set("atol", config_node::scalar(fmt::format("{:g}", opts_.reference_tolerance)));
                const auto solver = build_sampler(builder, node, std::nullopt);
                reference =
                    sample_rows(*solver, d, x_T.slice(0, 0, reference_rows).contiguous(), opts_.batch_size, seed);
            }
            return *reference;
        };

        for (const component_ref<sampler>& sampler_ref : opts_.samplers) {
            const config_node& node = sampler_ref.node();
            const std::string label = label_of(components, "sampler", node);
            const bool has_steps = has_key(components.at("sampler", node.find("type")->text()), "steps");
            const auto configured = build_sampler(builder, node, std::nullopt);
            try {
                configured->check(*p);
            } catch (const config_error& refusal) {
                refusals.push_back(fmt::format("- {} on {}: {}", label, process_name, refusal.what()));
                continue;
            }
            // Adaptive samplers (and a run with no budgets) run once as configured: budget 0.
            const bool adaptive = configured->evaluations(*p) == 0;
            const std::vector<std::int64_t> budgets =
                adaptive || opts_.nfe.empty() || !has_steps ? std::vector<std::int64_t>{0} : opts_.nfe;
            for (std::int64_t budget : budgets) {
                cell c{process_name, label, budget};
                std::optional<std::int64_t> steps;
                if (budget > 0 && !(steps = steps_for(builder, node, *p, budget))) continue;  // one step costs more
                c.steps = steps.value_or(0);
                const auto s = build_sampler(builder, node, steps);
                const auto start = std::chrono::steady_clock::now();
                d.reset_evaluations();
                const Eigen::MatrixXd samples = sample_rows(*s, d, x_T, opts_.batch_size, seed);
                c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                const std::int64_t calls = (opts_.count + opts_.batch_size - 1) / opts_.batch_size;
                if (adaptive) {  // evaluations per sample, on average (rk45 integrates row by row)
                    c.nfe = (d.evaluations() + opts_.count / 2) / opts_.count;
                } else if (d.evaluations() != s->evaluations(*p) * calls) {
                    throw error(fmt::format("sampler '{}' announced {} evaluations per run but spent {}", label,
                                            s->evaluations(*p), d.evaluations() / calls));
                } else {
                    c.nfe = s->evaluations(*p);
                }
                c.sliced_w2 = sliced_wasserstein(samples, exact, opts_.projections, seed);
                c.mean_error = mean_error(samples, mixture.mean());
                c.covariance_error = covariance_error(samples, mixture.covariance());
                if (s->deterministic() && reference_rows > 0)
                    c.ode_error = rms_difference(samples.topRows(reference_rows), reference_solution());
                log_info("  {} NFE {}: sliced W2 {:.4g}{}", label, c.nfe, c.sliced_w2,
                         std::isnan(c.ode_error) ? "" : fmt::format(", ODE error {:.3g}", c.ode_error));
                cells.push_back(c);
            }
        }
    }

    write_file_atomically(ctx.run_dir() / "results.csv", csv_text(cells));
    std::string report = fmt::format(
        "# Samplers vs NFE on a Gaussian-mixture oracle\n\n"
        "Data: `gmm`, {} components in shape [{}]; the exact denoiser drives every sampler, so every error below "
        "is the sampler's own. {} samples per cell, all samplers starting from the same x_T. Sliced W2 to as many "
        "exact data samples uses {} directions; at this sample size its floor, between two independent exact "
        "sample sets, is **{:.3g}** on average over {} pairs (from {:.3g} to {:.3g}). ODE error: RMS per value to the "
        "rk45 solution (tolerance {:g}) of the probability-flow ODE "
        "from the same x_T, over {} samples, for deterministic samplers. A number in parentheses is the NFE spent "
        "where it differs from the column's budget. results.csv also has the mean and covariance errors, steps and "
        "times.\n",
        mixture.components(), fmt::join(gmm->example_shape(), ", "), opts_.count, opts_.projections, floor_mean,
        floor_pairs, *floor_min, *floor_max, opts_.reference_tolerance, reference_rows);
    for (const std::string& name : process_names) {
        const std::string file = name.substr(0, name.find(' '));
        report += fmt::format("\n## process {}\n\nSliced W2 to exact data samples:\n\n{}", name,
                              table(cells, name, &cell::sliced_w2));
        if (std::any_of(cells.begin(), cells.end(),
                        [&](const cell& c) { return c.process == name && !std::isnan(c.ode_error); }))
            report += fmt::format("\nError to the exact ODE solution:\n\n{}", table(cells, name, &cell::ode_error));
        const auto index = std::to_string(&name - process_names.data());
        const std::string w2_plot = "sliced_w2_" + index + "_" + file, ode_plot = "ode_error_" + index + "_" + file;
        const bool drawn = write_line_plot(
            ctx.run_dir() / w2_plot, series_of(cells, name, &cell::sliced_w2, "exact-sample floor (mean)", floor_mean),
            {"sliced W2 vs NFE, process " + name, "NFE", "sliced W2", true, true});
        write_line_plot(ctx.run_dir() / ode_plot, series_of(cells, name, &cell::ode_error),
                        {"error to the exact ODE solution, process " + name, "NFE", "RMS error", true, true});
        report += drawn ? fmt::format(
                              "\n![sliced W2 vs NFE]({0}.png) ![ODE error vs NFE]({1}.png)\n\nData: "
                              "[{0}.csv]({0}.csv), [{1}.csv]({1}.csv)\n",
                              w2_plot, ode_plot)
                        : fmt::format("\nPlot data (gnuplot not installed): [{0}.csv]({0}.csv), [{1}.csv]({1}.csv)\n",
                                      w2_plot, ode_plot);
    }
    if (!refusals.empty()) report += "\n## Pairs not defined\n\n" + fmt::format("{}\n", fmt::join(refusals, "\n"));

    std::vector<std::string> failures;
    if (opts_.max_sliced_w2 > 0)
        for (const cell& c : cells)
            if (!(c.sliced_w2 <= opts_.max_sliced_w2))
                failures.push_back(
                    fmt::format("{} on {} at NFE {} (sliced W2 {:.4g})", c.sampler, c.process, c.nfe, c.sliced_w2));
    if (opts_.max_sliced_w2 > 0)
        report += fmt::format("\n## Conformance\n\n{} of {} cells within sliced W2 <= {:g}{}\n",
                              cells.size() - failures.size(), cells.size(), opts_.max_sliced_w2,
                              failures.empty() ? "." : fmt::format("; over it:\n\n- {}", fmt::join(failures, "\n- ")));
    write_file_atomically(ctx.run_dir() / "report.md", report);
    log_info("sampler_comparison: wrote {}", (ctx.run_dir() / "report.md").string());
    if (!failures.empty())
        throw error(fmt::format("{} of {} cells exceed max_sliced_w2 = {:g}, first: {}; see {}", failures.size(),
                                cells.size(), opts_.max_sliced_w2, failures.front(),
                                (ctx.run_dir() / "report.md").string()));
}

}  // namespace difflab::plugins
