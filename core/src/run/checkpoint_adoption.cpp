// SPDX-License-Identifier: Apache-2.0
// train.init_from: starting a run from another run's latest checkpoint.
#include <difflab/base/log.h>
#include <difflab/io/checkpoint.h>
#include <difflab/run/checkpoint_adoption.h>
#include <difflab/run/experiment.h>
#include <difflab/run/training.h>
#include <fmt/format.h>

namespace difflab {

namespace fs = std::filesystem;

namespace {

/// experiment[section][key] (or the whole section when key is empty); null if absent.
config_node part(const config_node& experiment, const std::string& section, const std::string& key) {
    const config_node* node = experiment.find(section);
    if (node && !key.empty()) node = node->is_map() ? node->find(key) : nullptr;
    return node ? *node : config_node{};
}

}  // namespace

void adopt_checkpoint(const fs::path& source, const config_node& experiment, const fs::path& checkpoint_dir) {
    if (latest_checkpoint_step(checkpoint_dir)) return;  // adopted earlier, or trained on since
    const fs::path source_config = source / "config.yaml";
    const auto source_step = latest_checkpoint_step(source / "checkpoints");
    if (!fs::exists(source_config) || !source_step)
        throw config_error(source_mark{source.string()},
                           "train.init_from: no trained run here (config.yaml and "
                           "checkpoints/)",
                           {"train it first, or give the path of a run directory (relative to where "
                            "difflab runs)"});
    const config_node trained = load_yaml_file(source_config.string());
    for (const auto& [section, key] : std::vector<std::pair<std::string, std::string>>{
             {"network", ""}, {"process", ""}, {"train", "prediction"}, {"train", "batch_size"}})
        if (!equivalent(part(trained, section, key), part(experiment, section, key)))
            throw config_error(source_mark{source_config.string()},
                               fmt::format("train.init_from: that run trained with another {}{}", section,
                                           key.empty() ? "" : "." + key),
                               {fmt::format("use the same `{}{}` as it does (see its config.yaml)", section,
                                            key.empty() ? "" : "." + key)});
    const std::int64_t steps = read_experiment(experiment).train.steps;
    if (static_cast<std::int64_t>(*source_step) > steps)
        throw config_error(fmt::format(
            "train.init_from: {} is trained to step {}, beyond train.steps={}; set train.steps={} to use it "
            "as it is, or more to train on",
            source.string(), *source_step, steps, *source_step));
    save_checkpoint(checkpoint_dir, load_checkpoint(source / "checkpoints", *source_step));
    log_info("train: starting from step {} of {}", *source_step, source.string());
}

}  // namespace difflab
