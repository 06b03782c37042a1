// SPDX-License-Identifier: Apache-2.0
// Plugin discovery and loading with Boost.DLL.
#include <difflab/base/log.h>
#include <difflab/plugin/library_file.h>
#include <difflab/plugin/plugin.h>
#include <difflab/plugin/plugin_loader.h>
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace difflab {

namespace fs = std::filesystem;

namespace {

constexpr const char* descriptor_alias = "difflab_plugin_descriptor";

// Libraries stay loaded until the process exits: components built from them may be alive
// anywhere, and unloading would leave dangling virtual tables. The list is never destroyed
// so that no library is closed during static destruction either.
std::vector<boost::dll::shared_library>& loaded_libraries() {
    static auto* libraries = new std::vector<boost::dll::shared_library>();
    return *libraries;
}

bool is_plugin_file_name(const fs::path& path) {
    const std::string name = path.filename().string();
    return name.rfind("difflab_", 0) == 0 && path.extension() == ".so";
}

std::string expected_plugin_name(const fs::path& path) {
    return path.stem().string().substr(std::strlen("difflab_"));
}

/// Called in a catch block: the exception of a plugin's register function, naming the plugin.
[[noreturn]] void rethrow_registration_failure(const std::string& name, const std::string& where) {
    try {
        throw;
    } catch (const config_error&) {
        throw;
    } catch (const std::exception& e) {
        throw error(source_mark{where},
                    fmt::format("plugin '{}' failed while registering its components: {}", name, e.what()));
    } catch (...) {
        throw error(source_mark{where},
                    fmt::format("plugin '{}' threw a non-standard exception while registering its components", name));
    }
}

}  // namespace

std::vector<fs::path> plugin_loader::default_search_path() {
    std::vector<fs::path> path;
    if (const char* env = std::getenv("DIFFLAB_PLUGIN_PATH")) {
        std::string list = env;
        std::size_t start = 0;
        while (start <= list.size()) {
            const std::size_t end = std::min(list.find(':', start), list.size());
            if (end > start) path.emplace_back(list.substr(start, end - start));
            start = end + 1;
        }
    }
    // The core's plugins sit in "difflab/" beside libdifflab_core.so, in the build tree and
    // in an install tree alike.
    path.push_back((boost::dll::this_line_location().parent_path() / "difflab").lexically_normal());
    return path;
}

void plugin_loader::load_all(const std::vector<fs::path>& search_path) {
    for (const fs::path& entry : search_path) {
        searched_.push_back(entry);
        std::error_code ec;
        if (fs::is_regular_file(entry, ec)) {
            load_file(entry);
            continue;
        }
        if (!fs::is_directory(entry, ec)) {
            log_debug("plugin path entry {} does not exist; skipped", entry.string());
            continue;
        }
        std::vector<fs::path> files;
        for (const fs::directory_entry& f : fs::directory_iterator(entry, ec))
            if (is_plugin_file_name(f.path()) && !f.is_directory()) files.push_back(f.path());
        std::sort(files.begin(), files.end());
        for (const fs::path& f : files) load_file(f);
    }
}

void plugin_loader::load_file(const fs::path& library) {
    const std::string where = library.string();
    for (const loaded_plugin& p : plugins_)
        if (fs::equivalent(p.path, library)) return;  // the same file reached twice on the path

    check_library_file(library);
    boost::dll::shared_library lib;
    boost::dll::fs::error_code ec;
    lib.load(library, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (ec) {
        // dlerror() says why (an undefined symbol, a missing dependency); Boost's code does not.
        const char* why = ::dlerror();
        throw config_error(source_mark{where},
                           std::string("not a loadable plugin library: ") + (why ? why : ec.message()),
                           {"remove it from the plugin path, or rebuild it with difflab_add_plugin()"});
    }
    if (!lib.has(descriptor_alias)) {
        throw config_error(source_mark{where}, "not a difflab plugin: it exports no 'difflab_plugin_descriptor'",
                           {"define the plugin with DIFFLAB_PLUGIN(name, version, reg) { ... }, or remove "
                            "the file from the plugin path"});
    }
    const plugin_descriptor* d = lib.get_alias<plugin_descriptor_fn>(descriptor_alias)();
    if (!d) throw config_error(source_mark{where}, "the plugin's descriptor function returned null");
    if (d->api_version != DIFFLAB_PLUGIN_API_VERSION) {
        throw config_error(source_mark{where}, fmt::format("incompatible plugin API (plugin: {}, core: {}); rebuild "
                                                           "the plugin against this difflab",
                                                           d->api_version, DIFFLAB_PLUGIN_API_VERSION));
    }
    if (std::strcmp(d->build_fingerprint, core_build_fingerprint()) != 0) {
        throw config_error(
            source_mark{where},
            "plugin built differently from the core; rebuild it with the same compiler, flags and libraries",
            {fmt::format("plugin: {}", d->build_fingerprint), fmt::format("core:   {}", core_build_fingerprint())});
    }
    const std::string name = d->name;
    if (name != expected_plugin_name(library)) {
        throw config_error(source_mark{where}, fmt::format("plugin names itself '{}' but its file is {}; a plugin "
                                                           "named N must be built as difflab_N.so",
                                                           name, library.filename().string()));
    }
    if (const loaded_plugin* other = find(name)) {
        throw config_error(source_mark{where},
                           fmt::format("duplicate plugin '{}': already loaded from {}", name, other->path.string()),
                           {"remove one of the two from the plugin path"});
    }

    // Kept loaded from here on: what register_components adds points into the library.
    loaded_libraries().push_back(lib);
    components_.set_current_plugin(name, d->version, where);
    try {
        d->register_components(components_);
    } catch (...) {
        // The registry keeps whole plugins only; the library stays loaded (what it registered
        // before failing may have been copied anywhere), unused.
        components_.remove_plugin(name);
        components_.set_current_plugin("", "", "");
        rethrow_registration_failure(name, where);
    }
    components_.set_current_plugin("", "", "");
    plugins_.push_back({name, d->version, library});
    log_debug("loaded plugin {} {} from {}", name, d->version, where);
}

const loaded_plugin* plugin_loader::find(const std::string& name) const {
    for (const loaded_plugin& p : plugins_)
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace difflab
