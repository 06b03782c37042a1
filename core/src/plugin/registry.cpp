// SPDX-License-Identifier: Apache-2.0
// The registries and component construction.
#include <difflab/base/suggest.h>
#include <difflab/plugin/registry.h>
#include <fmt/format.h>

#include <exception>
#include <iterator>

namespace difflab {

config_node resolved_component(const std::string& name, const config_node& written, const config_node& options) {
    config_node resolved = config_node::map(written.mark());
    const config_node* type = written.find("type");
    resolved.set("type", config_node::scalar(name, type ? type->mark() : written.mark()), written.key_mark("type"));
    for (const config_node::entry& e : options.entries()) resolved.set(e.key, e.value);
    copy_marks(resolved, written);
    return resolved;
}

void registry::set_current_plugin(std::string name, std::string version, std::string path) {
    plugin_ = std::move(name);
    plugin_version_ = std::move(version);
    plugin_path_ = std::move(path);
}

void registry::remove_plugin(const std::string& name) {
    for (auto it = components_.begin(); it != components_.end();)
        it = it->second.plugin == name ? components_.erase(it) : std::next(it);
}

void registry::insert(component_info info) {
    info.plugin = plugin_;
    info.plugin_version = plugin_version_;
    info.plugin_path = plugin_path_;
    const auto key = std::make_pair(info.kind, info.name);
    if (auto it = components_.find(key); it != components_.end()) {
        throw config_error(
            source_mark{plugin_path_},
            fmt::format("duplicate {} '{}': registered by plugin '{}' ({}) and plugin '{}' ({})", info.kind, info.name,
                        it->second.plugin, it->second.plugin_path, info.plugin, info.plugin_path),
            {"rename the component in one of the plugins, or remove one plugin from the plugin path"});
    }
    components_.emplace(key, std::move(info));
}

const component_info* registry::find(const std::string& kind, const std::string& name) const {
    auto it = components_.find({kind, name});
    return it == components_.end() ? nullptr : &it->second;
}

const component_info& registry::at(const std::string& kind, const std::string& name, const source_mark& where) const {
    if (const component_info* info = find(kind, name)) return *info;
    std::vector<std::string> names, listed;
    for (const component_info* c : of_kind(kind)) {
        names.push_back(c->name);
        listed.push_back(fmt::format("{} (plugin {})", c->name, c->plugin));
    }
    throw config_error(
        where, fmt::format("unknown {} type '{}'{}", kind, name, did_you_mean(name, names)),
        {fmt::format("known {} types: {}", kind,
                     listed.empty() ? std::string("none (no loaded plugin registers one)") : join(listed))});
}

std::vector<const component_info*> registry::of_kind(const std::string& kind) const {
    std::vector<const component_info*> out;
    for (const auto& [key, info] : components_)
        if (key.first == kind) out.push_back(&info);
    return out;
}

std::vector<const component_info*> registry::all() const {
    std::vector<const component_info*> out;
    for (const char* kind : component_kinds)
        for (const component_info* info : of_kind(kind)) out.push_back(info);
    return out;
}

config_node registry::resolve(const std::string& kind, const config_node& node, const parse_context& ctx) const {
    const config_node* type = node.find("type");
    if (!type || !type->is_scalar())
        throw config_error(node.mark(), fmt::format("'{}' needs a 'type' naming a {}", ctx.path(), kind));
    const component_info& info = at(kind, type->text(), type->mark());
    return info.resolve(node, ctx.owned_by(fmt::format("{} '{}'", kind, info.name)));
}

std::unique_ptr<component> build_context::create(const std::string& kind, const config_node& resolved) {
    const config_node* type = resolved.find("type");
    if (!type) throw config_error(resolved.mark(), fmt::format("a {} needs a 'type'", kind));
    const component_info& info = components_.at(kind, type->text(), type->mark());
    try {
        return info.construct(resolved, *this);
    } catch (const config_error&) {
        throw;
    } catch (const std::exception& e) {
        throw error(resolved.mark(),
                    fmt::format("{} failed to build (plugin '{}'): {}", info.full_name(), info.plugin, e.what()));
    }
}

}  // namespace difflab
