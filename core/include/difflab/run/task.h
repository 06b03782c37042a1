// SPDX-License-Identifier: Apache-2.0
// The 'task' component kind and the context a run gives it.
#pragma once

#include <difflab/plugin/component.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace difflab {

/// The state of one `difflab run`: the resolved experiment, its run directory and the
/// means to build the components its sections name.
class run_context {
public:
    run_context(const registry& components, config_node experiment, std::filesystem::path run_dir, std::uint64_t seed);

    /// The resolved experiment (every section, defaults filled in).
    const config_node& experiment() const { return experiment_; }
    /// The experiment's `name`.
    const std::string& name() const { return name_; }
    /// A section's options, typed: T::params() parses the resolved section (training_options
    /// for "train", sampling_options for "sample", evaluation_options for "evaluate").
    template <class T>
    T options(const std::string& section) const;
    const std::filesystem::path& run_dir() const { return run_dir_; }
    std::uint64_t seed() const { return builder_.seed(); }
    build_context& builder() { return builder_; }
    /// Whether `difflab run --resume` continues the run in run_dir() (training picks up its
    /// latest checkpoint).
    bool resuming() const { return resuming_; }
    void set_resuming(bool on) { resuming_ = on; }
    /// Whether `difflab sample` asks for samples from the run's latest checkpoint only, with
    /// no training; samples then go to samples_dir().
    bool sampling_only() const { return sampling_only_; }
    void set_sampling_only(bool on) { sampling_only_ = on; }
    /// Where samples are written: run_dir()/samples unless `difflab sample` chose another.
    std::filesystem::path samples_dir() const { return samples_dir_.empty() ? run_dir_ / "samples" : samples_dir_; }
    void set_samples_dir(std::filesystem::path dir) { samples_dir_ = std::move(dir); }
    /// Where metrics.json goes: run_dir() for a run, the samples directory when `difflab
    /// sample`/`evaluate` or a variant of a grid chose one.
    std::filesystem::path results_dir() const { return samples_dir_.empty() ? run_dir_ : samples_dir_; }

    /// Builds the component of kind K configured under the top-level `section`
    /// ("data", "network", ...); nullptr when the experiment leaves it out.
    template <class K>
    std::unique_ptr<K> build(const std::string& section);

private:
    config_node experiment_;
    std::string name_;
    std::filesystem::path run_dir_;
    build_context builder_;
    bool resuming_ = false;
    bool sampling_only_ = false;
    std::filesystem::path samples_dir_;
};

/// What an experiment does with its components: trains, samples, evaluates (generation,
/// super-resolution, inpainting, ...). A task composes conditioning around samplers; it
/// never forks a sampler loop.
class task : public component {
public:
    static constexpr const char* kind_name = "task";
    using kind_type = task;

    /// Carries out the experiment, writing its outputs under ctx.run_dir().
    virtual void run(run_context& ctx) = 0;
};

/// A task type declares the experiment sections it needs as a static member
///     static std::vector<std::string> required_sections();
/// (top-level component sections such as "data", "process", "network", or a component
/// option such as "sample.sampler"); the registry records them and resolve_experiment
/// (`difflab check`) refuses an experiment that leaves one out, at the task's `type:`.

template <class T>
T run_context::options(const std::string& section) const {
    const config_node* node = experiment_.find(section);
    return T::params().parse(node ? *node : config_node::map(), parse_context(&builder_.components()));
}

template <class K>
std::unique_ptr<K> run_context::build(const std::string& section) {
    const config_node* node = experiment_.find(section);
    if (!node || !node->is_map()) return nullptr;
    std::unique_ptr<component> made = builder_.create(K::kind_name, *node);
    return std::unique_ptr<K>(static_cast<K*>(made.release()));
}

}  // namespace difflab
