// SPDX-License-Identifier: Apache-2.0
// The registries: one table of (kind, name) -> component factory per process, filled by plugins.
#pragma once

#include <difflab/plugin/component.h>
#include <difflab/plugin/params.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace difflab {

class build_context;

/// `type: name` followed by the emitted options, with the source marks of `written` carried
/// over so that later errors still point into the file.
config_node resolved_component(const std::string& name, const config_node& written, const config_node& options);

/// Everything the core knows about one registered component.
struct component_info {
    std::string kind;    ///< "sampler"
    std::string name;    ///< "ddim"
    std::string plugin;  ///< name of the plugin that registered it
    std::string plugin_version;
    std::string plugin_path;
    std::string description;
    std::vector<param_info> params;
    /// Experiment sections the component needs ("network", "sample.sampler"): a task's, from its
    /// `static std::vector<std::string> required_sections()` when it has one.
    std::vector<std::string> required_sections;
    /// Validates a node and returns it resolved (type first, then every option).
    std::function<config_node(const config_node&, const parse_context&)> resolve;
    /// Builds the component from a resolved node.
    std::function<std::unique_ptr<component>(const config_node&, build_context&)> construct;

    std::string full_name() const { return kind + "/" + name; }
};

/// The registries of all kinds (OpenFOAM run-time selection tables, mmengine Registry).
/// Plugins add components in their register function; the core looks them up by kind and
/// `type:` name. There is one registry per process, in the shared core library.
class registry : public component_resolver {
public:
    /// Registers component type T under `name`. T derives from one kind (sampler, ...), has
    /// an `options` struct, `static param_spec<options> params()` and a constructor
    /// `T(const options&, build_context&)`.
    template <class T>
    void add(const std::string& name);

    /// The plugin whose components are being added; the loader sets it around each
    /// plugin's register function.
    void set_current_plugin(std::string name, std::string version, std::string path);
    /// Removes every component plugin `name` registered: what a plugin that failed while
    /// registering had added, so that the registry holds whole plugins only.
    void remove_plugin(const std::string& name);

    const component_info* find(const std::string& kind, const std::string& name) const;
    /// Throws a config_error naming the valid choices when absent.
    const component_info& at(const std::string& kind, const std::string& name, const source_mark& where = {}) const;
    std::vector<const component_info*> of_kind(const std::string& kind) const;
    std::vector<const component_info*> all() const;

    config_node resolve(const std::string& kind, const config_node& node, const parse_context& ctx) const override;

private:
    void insert(component_info info);

    std::map<std::pair<std::string, std::string>, component_info> components_;
    std::string plugin_, plugin_version_, plugin_path_;
};

/// What a component's constructor may use: the registry (to build nested components) and the
/// experiment's seed.
class build_context {
public:
    build_context(const registry& components, std::uint64_t seed) : components_(components), seed_(seed) {}

    const registry& components() const { return components_; }
    std::uint64_t seed() const { return seed_; }

    /// Builds a nested component of kind K from its resolved reference.
    template <class K>
    std::unique_ptr<K> create(const component_ref<K>& ref);
    /// Builds a component of `kind` from a resolved node; errors name the plugin.
    std::unique_ptr<component> create(const std::string& kind, const config_node& resolved);

private:
    const registry& components_;
    std::uint64_t seed_;
};

// ---------------------------------------------------------------------------------------------

template <class T, class = void>
struct has_required_sections : std::false_type {};
template <class T>
struct has_required_sections<T, std::void_t<decltype(T::required_sections())>> : std::true_type {};

template <class T>
void registry::add(const std::string& name) {
    using kind = typename T::kind_type;
    static_assert(std::is_base_of_v<component, T>, "a registered component derives from a kind");
    using options = typename T::options;
    auto spec = std::make_shared<const param_spec<options>>(T::params());
    component_info info;
    info.kind = kind::kind_name;
    info.name = name;
    info.description = spec->description();
    info.params = spec->info();
    if constexpr (has_required_sections<T>::value) info.required_sections = T::required_sections();
    info.resolve = [spec, name](const config_node& node, const parse_context& ctx) {
        return resolved_component(name, node, spec->emit(spec->parse(node, ctx)));
    };
    info.construct = [spec](const config_node& node, build_context& ctx) -> std::unique_ptr<component> {
        return std::make_unique<T>(spec->parse(node, parse_context(&ctx.components())), ctx);
    };
    insert(std::move(info));
}

template <class K>
std::unique_ptr<K> build_context::create(const component_ref<K>& ref) {
    if (!ref.present()) return nullptr;
    std::unique_ptr<component> made = create(K::kind_name, ref.node());
    return std::unique_ptr<K>(static_cast<K*>(made.release()));
}

}  // namespace difflab
