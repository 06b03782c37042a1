// SPDX-License-Identifier: Apache-2.0
// Finds, checks and loads plugin libraries (difflab_*.so) into a registry.
#pragma once

#include <difflab/plugin/registry.h>

#include <filesystem>
#include <string>
#include <vector>

namespace difflab {

struct loaded_plugin {
    std::string name;
    std::string version;
    std::filesystem::path path;
};

/// Loads plugins with Boost.DLL. Before calling any plugin code it checks the descriptor's
/// api_version, then the build fingerprint, then that the name matches the file name and is
/// not loaded yet. Libraries are never unloaded: components created from them may live
/// until the process exits.
class plugin_loader {
public:
    explicit plugin_loader(registry& components) : components_(components) {}

    /// DIFFLAB_PLUGIN_PATH (':'-separated) followed by the directory the core's own plugins
    /// were built or installed into (<dir of libdifflab_core.so>/difflab).
    static std::vector<std::filesystem::path> default_search_path();

    /// Loads every difflab_*.so in each directory (a path naming a file loads that file),
    /// in order, sorted by file name within a directory.
    void load_all(const std::vector<std::filesystem::path>& search_path);
    /// Loads one library; errors are config_errors naming the file.
    void load_file(const std::filesystem::path& library);

    const std::vector<loaded_plugin>& plugins() const { return plugins_; }
    const loaded_plugin* find(const std::string& name) const;
    /// Directories searched so far, for "not found" messages.
    const std::vector<std::filesystem::path>& searched() const { return searched_; }

private:
    registry& components_;
    std::vector<loaded_plugin> plugins_;
    std::vector<std::filesystem::path> searched_;
};

}  // namespace difflab
