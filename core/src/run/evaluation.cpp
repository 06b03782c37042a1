// SPDX-License-Identifier: Apache-2.0
// The `evaluate:` section: reference data, metric computation, metrics.json.
#include <difflab/base/log.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/io/atomic_file.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/task.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

namespace difflab {

namespace fs = std::filesystem;

param_spec<evaluation_options> evaluation_options::params() {
    param_spec<evaluation_options> spec{"Metrics computed after sampling, each recorded with its protocol."};
    spec.add(&evaluation_options::count, "count",
             "Samples drawn for the metrics (the grid shows the first sample.count); 0: sample.count.",
             at_least<std::int64_t>(0));
    spec.add(&evaluation_options::metrics, "metrics", "The metrics, e.g. [fid, precision_recall].");
    spec.add(&evaluation_options::reference_split, "reference_split",
             "Split of the experiment's data set the samples are compared with (data sets without splits ignore it).",
             non_empty());
    spec.add(&evaluation_options::reference_count, "reference_count",
             "Examples of the reference split used (the first ones); 0: all.", at_least<std::int64_t>(0));
    return spec;
}

metric_inputs load_reference(run_context& ctx, const evaluation_options& options, std::string& description) {
    const config_node* data = ctx.experiment().find("data");
    if (!data || !data->is_map())
        throw config_error("`evaluate:` needs the experiment's `data` section for its reference set");
    config_node node = *data;
    const bool has_splits = node.find("split") != nullptr;
    if (has_splits) node.set("split", config_node::scalar(options.reference_split, {}, true));
    const registry& components = ctx.builder().components();
    node = components.resolve("dataset", node, parse_context(&components));
    const std::unique_ptr<component> made = ctx.builder().create("dataset", node);
    const auto& reference = static_cast<const dataset&>(*made);

    const std::int64_t n =
        options.reference_count > 0 ? std::min(options.reference_count, reference.size()) : reference.size();
    std::vector<tensor> xs, labels;
    constexpr std::int64_t chunk = 1000;
    for (std::int64_t begin = 0; begin < n; begin += chunk) {
        std::vector<std::int64_t> indices(static_cast<std::size_t>(std::min(chunk, n - begin)));
        std::iota(indices.begin(), indices.end(), begin);
        example_batch batch = reference.get(indices);
        xs.push_back(batch.x);
        if (batch.labels.defined()) labels.push_back(batch.labels);
    }
    metric_inputs inputs;
    if (n > 0) inputs.reference = concat(xs, 0);
    if (!labels.empty() && labels.size() == xs.size()) inputs.reference_labels = concat(labels, 0);
    description = fmt::format("{}{}, {} examples", node.find("type")->text(),
                              has_splits ? " split " + options.reference_split : std::string(), n);
    return inputs;
}

evaluation_result evaluate_metrics(run_context& ctx, const evaluation_options& options, const metric_inputs& inputs,
                                   const evaluation_protocol& protocol) {
    evaluation_result result;
    result.protocol = protocol;
    const auto start = std::chrono::steady_clock::now();
    for (const component_ref<metric>& ref : options.metrics) {
        const std::unique_ptr<metric> m = ctx.builder().create(ref);
        metric_values values;
        try {
            values = m->compute(inputs);
        } catch (...) {
            // A metric's configuration mistake stays one (exit 2), placed at the metric's entry.
            rethrow_with_context(fmt::format("metric '{}' failed: ", ref.type()), ref.node().mark());
        }
        for (const auto& [name, value] : values) {
            log_info("metric {}: {} = {:.6g}", ref.type(), name, value);
            result.values.emplace_back(name, value);
        }
        result.metric_protocols.emplace_back(ref.type(), m->protocol());
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

void write_metrics_json(const fs::path& file, const evaluation_result& result) {
    nlohmann::ordered_json values = nlohmann::ordered_json::object();
    for (const auto& [name, value] : result.values)
        values[name] = std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
    const evaluation_protocol& p = result.protocol;
    nlohmann::ordered_json protocol = {{"samples", p.samples},
                                       {"reference", p.reference},
                                       {"weights", p.weights},
                                       {"checkpoint_step", p.checkpoint_step},
                                       {"sampler", p.sampler.is_null() ? std::string() : to_flow_yaml(p.sampler)},
                                       {"nfe", p.nfe},
                                       {"precision", p.precision},
                                       {"seed", p.seed}};
    nlohmann::ordered_json per_metric = nlohmann::ordered_json::object();
    for (const auto& [type, settings] : result.metric_protocols) {
        nlohmann::ordered_json entry = nlohmann::ordered_json::object();
        for (const auto& [key, value] : settings) entry[key] = value;
        per_metric[type] = entry;
    }
    protocol["metrics"] = per_metric;
    const nlohmann::ordered_json doc = {{"values", values}, {"protocol", protocol}, {"seconds", result.seconds}};
    write_file_atomically(file, doc.dump(2) + "\n");
}

recorded_metrics read_metrics_json(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw error(source_mark{file.string()}, "no metrics here", {"evaluate the run: difflab evaluate RUN_DIR"});
    const auto doc = nlohmann::ordered_json::parse(in, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("values") || !doc["values"].is_object())
        throw error(source_mark{file.string()}, "damaged metrics file (not JSON with a \"values\" object)",
                    {"recompute it with difflab evaluate RUN_DIR"});
    recorded_metrics out;
    for (const auto& [name, value] : doc["values"].items())
        out.values.emplace_back(name, value.is_number() ? value.get<double>() : std::nan(""));
    const auto& protocol = doc.value("protocol", nlohmann::ordered_json::object());
    if (protocol.is_object() && protocol.contains("nfe") && protocol["nfe"].is_number())
        out.nfe = protocol["nfe"].get<double>();
    return out;
}

std::string metrics_markdown(const evaluation_result& result) {
    std::string md = "\n| metric | value |\n|---|---|\n";
    for (const auto& [name, value] : result.values) md += fmt::format("| {} | {:.4g} |\n", name, value);
    const evaluation_protocol& p = result.protocol;
    md += fmt::format(
        "\nProtocol: {} samples against {}; {} weights{}; sampler `{}`, {:g} network evaluations per sample{}; "
        "seed {}.\n",
        p.samples, p.reference, p.weights, p.checkpoint_step >= 0 ? fmt::format(" of step {}", p.checkpoint_step) : "",
        p.sampler.is_null() ? std::string("none") : to_flow_yaml(p.sampler), p.nfe,
        p.precision == "fp32" ? "" : " in " + p.precision, p.seed);
    for (const auto& [type, settings] : result.metric_protocols) {
        if (settings.empty()) continue;
        std::vector<std::string> parts;
        for (const auto& [key, value] : settings) parts.push_back(key + " " + value);
        md += fmt::format("{}: {}.\n", type, fmt::join(parts, ", "));
    }
    return md;
}

}  // namespace difflab
