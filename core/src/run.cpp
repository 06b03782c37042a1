// SPDX-License-Identifier: Apache-2.0
// Run directories and the execution of an experiment's task.
#include <difflab/atomic_file.h>
#include <difflab/log.h>
#include <difflab/run.h>
#include <difflab/task.h>
#include <difflab/version.h>
#include <fmt/format.h>

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

/// The configuration as compared for --resume: no provenance, no train.steps.
std::string comparable(config_node config) {
    config.erase("provenance");
    if (config_node* train = config.find("train")) train->erase("steps");
    return to_yaml(config);
}

void check_resumable(const fs::path& run_dir, const config_node& resolved) {
    const fs::path saved = run_dir / "config.yaml";
    if (!fs::exists(saved))
        throw config_error(format_error(run_dir.string(), "--resume: no run to resume here (no config.yaml)",
                                        {"run without --resume to start it"}));
    if (comparable(load_yaml_file(saved)) != comparable(resolved))
        throw config_error(format_error(saved.string(),
                                        "--resume: the experiment differs from this run's configuration",
                                        {"resume with the same experiment and overrides (only train.steps may change); "
                                         "`difflab check` prints the resolved experiment to compare"}));
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
        throw error(format_error(ctx.run_dir().string(),
                                 fmt::format("{} (plugin '{}') failed: {}", info.full_name(), info.plugin, e.what())));
    }
}

}  // namespace

fs::path run_experiment(const config_node& resolved, const registry& components, const plugin_loader& plugins,
                        const run_options& options) {
    const std::string name = resolved.find("name")->text();
    const fs::path run_dir = options.output_root / name;
    if (options.resume) {
        check_resumable(run_dir, resolved);
    } else if (fs::exists(run_dir / "config.yaml")) {
        if (!options.overwrite)
            throw config_error(format_error(run_dir.string(), "a run of this name already exists",
                                            {"pass --overwrite to replace it, or name=NEW to start another"}));
        fs::remove_all(run_dir);
    }
    fs::create_directories(run_dir);
    write_file_atomically(run_dir / "config.yaml", to_yaml(with_provenance(resolved, plugins)));

    const auto seed = static_cast<std::uint64_t>(std::stoll(resolved.find("seed")->text()));
    run_context ctx(components, resolved, run_dir, seed);
    ctx.set_resuming(options.resume);
    log_info("run {}: task {} -> {}", name, resolved.find("task")->find("type")->text(), run_dir.string());
    run_task(ctx, components);
    return run_dir;
}

fs::path sample_run(const fs::path& run_dir, const config_node& resolved, const registry& components,
                    const std::string& label) {
    const fs::path out = run_dir / "samples" / label;
    const auto seed = static_cast<std::uint64_t>(std::stoll(resolved.find("seed")->text()));
    run_context ctx(components, resolved, run_dir, seed);
    ctx.set_sampling_only(true);
    ctx.set_samples_dir(out);
    fs::create_directories(out);
    write_file_atomically(out / "config.yaml", to_yaml(resolved));
    log_info("sample {}: -> {}", run_dir.string(), out.string());
    run_task(ctx, components);
    return out;
}

}  // namespace difflab
