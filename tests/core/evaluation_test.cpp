// SPDX-License-Identifier: Apache-2.0
// metrics.json and the grid report: what is written is what is read back.
#include <difflab/base/error.h>
#include <difflab/diffusion/metric.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/comparison_report.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/task.h>
#include <difflab/run/variants.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
    fs::path root;
    explicit scratch_dir(const std::string& name) : root(fs::temp_directory_path() / ("difflab_eval_" + name)) {
        fs::remove_all(root);
        fs::create_directories(root);
    }
    ~scratch_dir() { fs::remove_all(root); }
};

std::string read(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

evaluation_result example_result() {
    evaluation_result r;
    r.values = {{"fid", 12.5}, {"precision", 0.75}, {"broken", std::nan("")}};
    r.protocol.samples = 1000;
    r.protocol.reference = "fashion_mnist split test, 10000 examples";
    r.protocol.weights = "ema";
    r.protocol.checkpoint_step = 4000;
    r.protocol.sampler = parse_yaml("{type: ddim, steps: 10}", "x");
    r.protocol.nfe = 10;
    r.protocol.seed = 3;
    r.metric_protocols = {{"fid", {{"feature_network", "fmnist_classifier"}, {"feature_network_sha256", "ab12"}}}};
    return r;
}

/// A metric whose inputs are wrong for it: a mistake in the experiment, not a failure.
class picky_metric final : public metric {
public:
    struct options {};
    static param_spec<options> params() { return param_spec<options>{"Refuses every input."}; }
    picky_metric(const options&, build_context&) {}
    metric_values compute(const metric_inputs&) override {
        throw config_error("picky: the samples are not images; use picky on an image data set");
    }
};

}  // namespace

TEST_CASE("a metric's configuration error keeps exit code 2 and points at the metric's entry") {
    registry components;
    components.set_current_plugin("evaluation_test", "0.0.0", "(test)");
    components.add<picky_metric>("picky");
    const config_node written = parse_yaml("count: 4\nmetrics: [{type: picky}]\n", "eval.yaml");
    const evaluation_options options = evaluation_options::params().parse(written, parse_context(&components));
    scratch_dir dir("picky");
    run_context ctx(components, parse_yaml("{name: x}", "x.yaml"), dir.root, 0);
    std::string message = "(no error)";
    try {
        evaluate_metrics(ctx, options, metric_inputs{}, evaluation_protocol{});
    } catch (const config_error& e) {
        message = e.what();
    } catch (const std::exception& e) {
        message = std::string("not a config_error: ") + e.what();
    }
    CHECK(message ==
          "eval.yaml:2:11: error: metric 'picky' failed: picky: the samples are not images; use picky on an image "
          "data set");
}

TEST_CASE("a metric without per-example values says so when asked for them") {
    picky_metric picky(picky_metric::options{}, testing::test_context());
    CHECK_THROWS_WITH_AS(picky.per_example(metric_inputs{}),
                         "error: metric: this metric gives one value for the whole set, not one per example; use a "
                         "metric that is a mean over examples (nll_bpd)",
                         error);
}

TEST_CASE("metrics.json keeps the values in order with the protocol, NaN as null") {
    const scratch_dir d("json");
    write_metrics_json(d.root / "metrics.json", example_result());
    const recorded_metrics back = read_metrics_json(d.root / "metrics.json");
    REQUIRE(back.values.size() == 3);
    CHECK(back.values[0] == std::make_pair(std::string("fid"), 12.5));
    CHECK(back.values[1].first == "precision");
    CHECK(std::isnan(back.values[2].second));
    CHECK(back.nfe == 10);
    const std::string text = read(d.root / "metrics.json");
    CHECK(text.find("\"broken\": null") != std::string::npos);
    CHECK(text.find("\"sampler\": \"{type: ddim, steps: 10}\"") != std::string::npos);
    CHECK(text.find("\"feature_network_sha256\": \"ab12\"") != std::string::npos);
    CHECK(text.find("\"checkpoint_step\": 4000") != std::string::npos);
}

TEST_CASE("a missing or damaged metrics.json is a one-line error naming the file") {
    const scratch_dir d("damaged");
    std::ofstream(d.root / "metrics.json") << "{\"values\": [1, 2";
    for (const fs::path& file : {d.root / "metrics.json", d.root / "absent.json"}) {
        try {
            read_metrics_json(file);
            FAIL("no error for " << file);
        } catch (const error& e) {
            CHECK(std::string(e.what()).rfind(file.string() + ": error: ", 0) == 0);
        }
    }
}

TEST_CASE("the grid report: results.csv has a row per variant and a column per axis and value") {
    const scratch_dir d("report");
    experiment_variant a, b;
    a.label = "ddim_10";
    a.settings = {{"sample.sampler", parse_yaml("{type: ddim, steps: 10}", "x")}};
    a.experiment = parse_yaml("sample: {sampler: {type: ddim, steps: 10}}", "x");
    b.label = "ddpm_20";
    b.settings = {{"sample.sampler", parse_yaml("{type: ddpm, steps: 20}", "x")}};
    b.experiment = parse_yaml("sample: {sampler: {type: ddpm, steps: 20}}", "x");
    variant_outcome oa{&a, d.root / "a", {{{"fid", 30.0}, {"precision", 0.5}}, 10}, ""};
    variant_outcome ob{&b, d.root / "b", {{{"fid", 45.5}}, 20}, ""};
    claim c;
    c.metric = "fid";
    c.variant = "ddim_10";
    c.kind = claim::relation::less_than;
    c.other = "ddpm_20";
    write_comparison_report(d.root, "grid", {oa, ob}, {{c, true, "fid(ddim_10) = 30, fid(ddpm_20) = 45.5"}});
    CHECK(read(d.root / "results.csv") ==
          "variant,sample.sampler,nfe,fid,precision\n"
          "ddim_10,\"{type: ddim, steps: 10}\",10,30,0.5\n"
          "ddpm_20,\"{type: ddpm, steps: 20}\",20,45.5,\n");
    const std::string report = read(d.root / "report.md");
    CHECK(report.find("| ddpm_20 | 20 | 45.5 | – |") != std::string::npos);
    CHECK(report.find("| fid(ddim_10) < fid(ddpm_20) | yes | fid(ddim_10) = 30, fid(ddpm_20) = 45.5 |") !=
          std::string::npos);
    // One line per sampler type against NFE: the data always, as CSV.
    CHECK(read(d.root / "fid_vs_nfe.csv").find("ddpm,20,45.5") != std::string::npos);
}

TEST_CASE("plot legends name a map- or list-valued axis value by its label, a scalar one as path=value") {
    const scratch_dir d("legends");
    std::vector<experiment_variant> variants;
    for (const char* noise : {"gaussian", "simplex"})
        for (const char* size : {"4", "8"}) {
            experiment_variant v;
            v.label = fmt::format("{}, anomaly_size={}", noise, size);
            v.labels = {noise, fmt::format("anomaly_size={}", size)};
            const std::string setting = std::string(noise) == "simplex" ? "{noise: {type: simplex}}" : "{}";
            v.settings = {{".", parse_yaml(setting, "x")}, {"task.anomaly_size", parse_yaml(size, "x")}};
            v.experiment = parse_yaml("sample: {sampler: {type: ddpm, steps: 30}}", "x");
            variants.push_back(std::move(v));
        }
    std::vector<variant_outcome> outcomes;
    const double aurocs[] = {0.7, 0.6, 0.8, 0.7};
    for (std::size_t i = 0; i < variants.size(); ++i)
        outcomes.push_back({&variants[i], d.root / variants[i].slug, {{{"pixel_auroc", aurocs[i]}}, 30}, ""});
    write_comparison_report(d.root, "legends", outcomes, {});
    const std::string csv = read(d.root / "pixel_auroc_vs_anomaly_size.csv");
    CHECK(csv.find("simplex,4,0.8\nsimplex,8,0.7\n") != std::string::npos);
    CHECK(csv.find("gaussian,4,0.7\ngaussian,8,0.6\n") != std::string::npos);
    CHECK(csv.find("noise") == std::string::npos);
}

TEST_CASE("the grid report plots against NFE and each numeric axis with a line per value of the other axes") {
    const scratch_dir d("axes");
    std::vector<experiment_variant> variants;
    for (const char* schedule : {"linear", "cosine"})
        for (const char* steps : {"500", "2000"}) {
            experiment_variant v;
            v.label = fmt::format("schedule={}, steps={}", schedule, steps);
            v.settings = {{"process.schedule", parse_yaml(schedule, "x")}, {"train.steps", parse_yaml(steps, "x")}};
            v.experiment = parse_yaml("sample: {sampler: {type: ddim, steps: 10}}", "x");
            variants.push_back(std::move(v));
        }
    std::vector<variant_outcome> outcomes;
    const double fids[] = {9, 4, 8, 3}, nfes[] = {10, 10, 10, 50};
    for (std::size_t i = 0; i < variants.size(); ++i)
        outcomes.push_back({&variants[i], d.root / variants[i].slug, {{{"fid", fids[i]}}, nfes[i]}, ""});
    write_comparison_report(d.root, "grid", outcomes, {});
    const std::string csv = read(d.root / "fid_vs_steps.csv");
    CHECK(csv.find("process.schedule=cosine,500,8\nprocess.schedule=cosine,2000,3\n") != std::string::npos);
    CHECK(csv.find("process.schedule=linear,500,9\nprocess.schedule=linear,2000,4\n") != std::string::npos);
    // No plot against the schedule: it is not a number.
    CHECK_FALSE(fs::exists(d.root / "fid_vs_schedule.csv"));
    // Against NFE, the schedules are apart: a line per sampler type and value of the other axes.
    const std::string nfe = read(d.root / "fid_vs_nfe.csv");
    CHECK(nfe.find("\"ddim, process.schedule=cosine, train.steps=2000\",50,3\n") != std::string::npos);
    CHECK(nfe.find("\"ddim, process.schedule=linear, train.steps=500\",10,9\n") != std::string::npos);
}
