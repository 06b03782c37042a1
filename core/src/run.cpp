// SPDX-License-Identifier: Apache-2.0
// Run directories and the execution of an experiment's task.
#include <difflab/log.h>
#include <difflab/run.h>
#include <difflab/task.h>
#include <difflab/version.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

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

void write_file_atomically(const fs::path& path, const std::string& content) {
    const fs::path temp = path.string() + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw error(format_error(temp.string(), fmt::format("cannot create file: {}", std::strerror(errno))));
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            fs::remove(temp);
            throw error(format_error(temp.string(), fmt::format("write failed: {}", std::strerror(err))));
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        fs::remove(temp);
        throw error(format_error(temp.string(), fmt::format("cannot flush file to disk: {}", std::strerror(errno))));
    }
    fs::rename(temp, path);
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
        throw error(format_error(run_dir.string(), fmt::format("{} (plugin '{}') failed: {}", info.full_name(),
                                                               info.plugin, e.what())));
    }
    return run_dir;
}

}  // namespace difflab
