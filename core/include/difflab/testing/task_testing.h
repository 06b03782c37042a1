// SPDX-License-Identifier: Apache-2.0
// Test support for tasks: run an experiment from YAML in a scratch directory, read what it wrote.
#pragma once

#include <difflab/io/safetensors.h>
#include <difflab/plugin/config_node.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/experiment.h>
#include <difflab/run/task.h>
#include <difflab/testing/testing.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace difflab::testing {

/// Runs the experiment `yaml` (its task, with the build's plugins) in a fresh directory named
/// after `name` and this process under the temporary directory, with seed 3; returns the
/// directory, which the caller removes.
inline std::filesystem::path run_experiment(const std::string& yaml, const std::string& name) {
    namespace fs = std::filesystem;
    const registry& components = build_plugins();
    const config_node resolved = resolve_experiment(parse_yaml(yaml, "tiny.yaml"), components);
    const fs::path dir = fs::temp_directory_path() / ("difflab_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    run_context ctx(components, resolved, dir, 3);
    ctx.build<task>("task")->run(ctx);
    return dir;
}

/// What running `yaml` throws ("no error" when it runs; its directory is then removed).
inline std::string experiment_error(const std::string& yaml) {
    try {
        std::filesystem::remove_all(run_experiment(yaml, "bad"));
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no error";
}

/// A text file's contents ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// The samples a task run wrote (samples/samples.safetensors).
inline tensor samples_of(const std::filesystem::path& run) {
    return to_tensor(read_safetensors(run / "samples/samples.safetensors").tensors.front());
}

/// A value of the run's metrics.json by name; none when it is not there.
inline std::optional<double> metric_of(const std::filesystem::path& run, const std::string& name) {
    for (const auto& [key, value] : read_metrics_json(run / "metrics.json").values)
        if (key == name) return value;
    return std::nullopt;
}

}  // namespace difflab::testing
