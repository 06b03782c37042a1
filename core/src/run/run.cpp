// SPDX-License-Identifier: Apache-2.0
// Run directories and the execution of an experiment's task.
#include <difflab/base/distributed.h>
#include <difflab/base/log.h>
#include <difflab/base/version.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/checkpoint.h>
#include <difflab/run/claims.h>
#include <difflab/run/comparison_report.h>
#include <difflab/run/experiment.h>
#include <difflab/run/run.h>
#include <difflab/run/run_lock.h>
#include <difflab/run/task.h>
#include <difflab/run/variants.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

namespace difflab {

namespace fs = std::filesystem;

config_node with_provenance(const config_node& resolved, const plugin_loader& plugins) {
    config_node out = resolved;
    config_node provenance = config_node::map();
    provenance.set("difflab", config_node::scalar(DIFFLAB_VERSION, {}, true));
    provenance.set("fingerprint", config_node::scalar(core_build_fingerprint(), {}, true));
    config_node versions = config_node::map();
    for (const loaded_plugin& p : plugins.plugins()) versions.set(p.name, config_node::scalar(p.version, {}, true));
    provenance.set("plugins", versions);
    out.set("provenance", provenance);
    return out;
}

namespace {

/// Refuses a run directory that exists but cannot be written (a read-only mount, permissions)
/// before anything reads or removes it: a file is created in it and removed again, which is what
/// the run would do (access(2) says yes to root, whom permissions do not stop, on a read-only
/// file system too).
void check_writable(const fs::path& run_dir) {
    if (!fs::is_directory(run_dir)) return;
    const fs::path probe = run_dir / fmt::format(".write_probe.{}", ::getpid());
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw config_error(source_mark{run_dir.string()},
                           fmt::format("the run directory is not writable ({}); make it writable, or start another "
                                       "run with name=NEW",
                                       std::strerror(errno)));
    ::close(fd);
    ::unlink(probe.c_str());
}

/// The configuration as compared for --resume: no provenance, no train.steps, and no expect
/// (claims are checked after the run against its recorded metrics, so new ones can be tried on it).
std::string comparable(config_node config) {
    config.erase("provenance");
    config.erase("expect");
    if (config_node* train = config.find("train")) train->erase("steps");
    return to_yaml(config);
}

void check_resumable(const fs::path& run_dir, const config_node& resolved) {
    const fs::path saved = run_dir / "config.yaml";
    if (!fs::exists(saved))
        throw config_error(source_mark{run_dir.string()}, "--resume: no run to resume here (no config.yaml)",
                           {"run without --resume to start it"});
    if (comparable(load_yaml_file(saved)) != comparable(resolved))
        throw config_error(source_mark{saved.string()},
                           "--resume: the experiment differs from this run's configuration",
                           {"resume with the same experiment and overrides (only train.steps and expect may change); "
                            "`difflab check` prints the resolved experiment to compare"});
}

/// Builds and runs the experiment's task; exceptions that are not difflab errors name the
/// task and its plugin.
void run_task(run_context& ctx, const registry& components) {
    const std::string type = ctx.experiment().find("task")->find("type")->text();
    std::unique_ptr<task> job = ctx.build<task>("task");
    try {
        job->run(ctx);
    } catch (const error&) {
        throw;
    } catch (const std::exception& e) {
        const component_info& info = components.at("task", type);
        throw error(source_mark{ctx.run_dir().string()},
                    fmt::format("{} (plugin '{}') failed: {}", info.full_name(), info.plugin, e.what()));
    }
}

/// The seed of a resolved experiment.
std::uint64_t seed_of(const config_node& resolved) {
    return static_cast<std::uint64_t>(read_experiment(resolved).seed);
}

/// Runs every variant: the first of each model key trains in models/<slug>/ (unless
/// `evaluate_only`), all sample and evaluate into out_root/variants/<slug>/. With `resume`,
/// training continues from its checkpoints and a variant whose metrics.json was written with
/// the same configuration is not run again.
std::vector<variant_outcome> run_variants(const fs::path& run_dir, const fs::path& out_root,
                                          const std::vector<experiment_variant>& variants, const registry& components,
                                          bool evaluate_only, bool resume) {
    std::vector<std::pair<std::string, fs::path>> models;  // model key -> its training run
    std::vector<variant_outcome> outcomes;
    for (std::size_t i = 0; i < variants.size(); ++i) {
        // The ranks of an MPI job decide together whether a variant is done: none may see the
        // metrics.json rank 0 is writing for it.
        distributed::barrier();
        const experiment_variant& v = variants[i];
        const std::string key = model_key(v.experiment);
        auto it = std::find_if(models.begin(), models.end(), [&](const auto& m) { return m.first == key; });
        const bool trains = it == models.end();
        const fs::path model_dir = trains ? run_dir / "models" / v.slug : it->second;
        if (trains) models.emplace_back(key, model_dir);
        const fs::path out = out_root / "variants" / v.slug;
        const std::string config = to_yaml(v.experiment);

        const bool done = resume && fs::exists(out / "metrics.json") && fs::exists(out / "config.yaml") &&
                          equivalent(load_yaml_file((out / "config.yaml").string()), v.experiment);
        if (done) {
            log_info("variant {}/{} {}: already evaluated", i + 1, variants.size(), v.label);
        } else {
            fs::create_directories(out);
            fs::create_directories(model_dir);
            write_file_atomically(out / "config.yaml", config);
            if (trains && !evaluate_only) write_file_atomically(model_dir / "config.yaml", config);
            run_context ctx(components, v.experiment, model_dir, seed_of(v.experiment));
            ctx.set_samples_dir(out);
            ctx.set_sampling_only(evaluate_only || !trains);
            ctx.set_resuming(resume && trains && latest_checkpoint_step(model_dir / "checkpoints").has_value());
            log_info("variant {}/{} {}: {}", i + 1, variants.size(), v.label,
                     ctx.sampling_only() ? "sampling " + model_dir.string() : "training in " + model_dir.string());
            try {
                run_task(ctx, components);
                distributed::barrier();  // rank 0's metrics.json is written before any rank reads it
            } catch (const variant_not_applicable& e) {
                // Not a failure of the grid: the combination is undefined (a sampler refusing the
                // process, a budget below one step), and the report says so.
                log_info("variant {}/{} {}: not run: {}", i + 1, variants.size(), v.label, e.message());
                fs::remove(out / "metrics.json");
                variant_outcome o;
                o.variant = &v;
                o.dir = out;
                o.not_run = e.message();
                outcomes.push_back(std::move(o));
                continue;
            }
        }
        variant_outcome o;
        o.variant = &v;
        o.dir = out;
        if (fs::exists(out / "metrics.json")) o.metrics = read_metrics_json(out / "metrics.json");
        outcomes.push_back(std::move(o));
    }
    return outcomes;
}

/// Logs every claim's outcome; throws naming every failed one with its numbers.
void enforce_claims(const std::vector<claim_outcome>& outcomes) {
    std::vector<std::string> failed;
    for (const claim_outcome& o : outcomes) {
        log_info("expect {}: {} ({})", o.checked.text(), o.held ? "holds" : "FAILS", o.detail);
        if (!o.held)
            failed.push_back(fmt::format("{}:{}:{}: {} does not hold: {}", o.checked.where.file, o.checked.where.line,
                                         o.checked.where.column, o.checked.text(), o.detail));
    }
    if (!failed.empty())
        throw error(fmt::format("{} of {} claims of `expect:` failed:\n    {}", failed.size(), outcomes.size(),
                                fmt::join(failed, "\n    ")));
}

std::vector<std::string> labels_of(const std::vector<experiment_variant>& variants) {
    std::vector<std::string> labels;
    for (const experiment_variant& v : variants) labels.push_back(v.label);
    return labels;
}

const config_node& expect_of(const config_node& resolved) {
    static const config_node none;
    const config_node* expect = resolved.find("expect");
    return expect ? *expect : none;
}

/// Runs the grid (or the single run) and checks the claims; `out_root` receives the outputs.
void run_and_check(const fs::path& run_dir, const fs::path& out_root, const config_node& resolved,
                   const registry& components, bool evaluate_only, bool resume) {
    const std::vector<experiment_variant> variants = expand_variants(resolved, components);
    const std::vector<claim> claims = parse_claims(expect_of(resolved), labels_of(variants));
    std::vector<std::pair<std::string, metric_values>> results;
    std::vector<claim_outcome> outcomes;
    if (variants.empty()) {
        run_context ctx(components, resolved, run_dir, seed_of(resolved));
        ctx.set_resuming(resume);
        if (evaluate_only) {
            ctx.set_sampling_only(true);
            ctx.set_samples_dir(out_root);
        }
        run_task(ctx, components);
        distributed::barrier();  // rank 0's metrics.json is written before any rank reads it
        if (claims.empty()) return;
        const fs::path metrics = ctx.results_dir() / "metrics.json";
        results.emplace_back("", fs::exists(metrics) ? read_metrics_json(metrics).values : metric_values{});
        outcomes = check_claims(claims, results);
        const fs::path report = ctx.results_dir() / "report.md";
        std::string text;
        if (fs::exists(report)) {
            std::ifstream in(report);
            text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        write_file_atomically(report, text + claims_markdown(outcomes));
    } else {
        const std::vector<variant_outcome> grid =
            run_variants(run_dir, out_root, variants, components, evaluate_only, resume);
        for (const variant_outcome& o : grid)  // claims on every variant skip those not run
            if (o.not_run.empty()) results.emplace_back(o.variant->label, o.metrics.values);
        outcomes = check_claims(claims, results);
        write_comparison_report(out_root, read_experiment(resolved).name, grid, outcomes);
    }
    enforce_claims(outcomes);
}

}  // namespace

fs::path run_experiment(const config_node& resolved, const registry& components, const plugin_loader& plugins,
                        const run_options& options) {
    const std::string name = read_experiment(resolved).name;
    const fs::path run_dir = options.output_root / name;
    // Rank 0 of an MPI job holds the lock for all of its ranks.
    std::optional<run_lock> only_here;
    if (distributed::is_root()) only_here.emplace(run_dir);  // before --overwrite may remove the directory
    check_writable(run_dir);
    bool replace = false;
    if (options.resume) {
        check_resumable(run_dir, resolved);
    } else if (fs::exists(run_dir / "config.yaml")) {
        if (!options.overwrite)
            throw config_error(source_mark{run_dir.string()}, "a run of this name already exists",
                               {"pass --overwrite to replace it, or name=NEW to start another"});
        replace = true;
    }
    distributed::barrier();  // every rank has checked the directory as it was before rank 0 replaces it
    if (distributed::is_root()) {
        if (replace) fs::remove_all(run_dir);
        fs::create_directories(run_dir);
        write_file_atomically(run_dir / "config.yaml", to_yaml(with_provenance(resolved, plugins)));
    }
    distributed::barrier();
    log_info("run {}: task {} -> {}", name, resolved.find("task")->find("type")->text(), run_dir.string());
    run_and_check(run_dir, run_dir, resolved, components, false, options.resume);
    return run_dir;
}

fs::path evaluate_run(const fs::path& run_dir, const config_node& resolved, const registry& components,
                      const std::string& label) {
    const fs::path out = run_dir / "evaluations" / label;
    fs::create_directories(out);
    write_file_atomically(out / "config.yaml", to_yaml(resolved));
    log_info("evaluate {}: -> {}", run_dir.string(), out.string());
    run_and_check(run_dir, out, resolved, components, true, false);
    return out;
}

fs::path sample_run(const fs::path& run_dir, const config_node& resolved, const registry& components,
                    const std::string& label) {
    const fs::path out = run_dir / "samples" / label;
    run_context ctx(components, resolved, run_dir, seed_of(resolved));
    ctx.set_sampling_only(true);
    ctx.set_samples_dir(out);
    fs::create_directories(out);
    write_file_atomically(out / "config.yaml", to_yaml(resolved));
    log_info("sample {}: -> {}", run_dir.string(), out.string());
    run_task(ctx, components);
    return out;
}

}  // namespace difflab
