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

fs::path run_experiment(const config_node& resolved, const registry& components, const plugin_loader& plugins,
                        const run_options& options) {
    const std::string name = resolved.find("name")->text();
    const fs::path run_dir = options.output_root / name;
    if (fs::exists(run_dir / "config.yaml")) {
        if (!options.overwrite)
            throw config_error(format_error(run_dir.string(), "a run of this name already exists",
                                            {"pass --overwrite to replace it, or name=NEW to start another"}));
        fs::remove_all(run_dir);
    }
    fs::create_directories(run_dir);
    write_file_atomically(run_dir / "config.yaml", to_yaml(with_provenance(resolved, plugins)));

    const auto seed = static_cast<std::uint64_t>(std::stoll(resolved.find("seed")->text()));
    run_context ctx(components, resolved, run_dir, seed);
    std::unique_ptr<task> job = ctx.build<task>("task");
    log_info("run {}: task {} -> {}", name, resolved.find("task")->find("type")->text(), run_dir.string());
    try {
        job->run(ctx);
    } catch (const error&) {
        throw;
    } catch (const std::exception& e) {
        const component_info& info = components.at("task", resolved.find("task")->find("type")->text());
        throw error(format_error(run_dir.string(),
                                 fmt::format("{} (plugin '{}') failed: {}", info.full_name(), info.plugin, e.what())));
    }
    return run_dir;
}

}  // namespace difflab
