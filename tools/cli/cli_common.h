// SPDX-License-Identifier: Apache-2.0
// What every subcommand shares: common options, plugin loading, exit codes.
#pragma once

#include <difflab/plugin/config_node.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/plugin/registry.h>

#include <boost/program_options.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace difflab::cli {

namespace po = boost::program_options;

enum exit_code { ok = 0, runtime_failure = 1, usage_error = 2 };

/// --threads, --quiet, --verbose, --help: added to every subcommand.
void add_common_options(po::options_description& options);
/// Applies --threads/--quiet/--verbose; returns true when --help was asked for (and printed).
bool handle_common_options(const po::variables_map& vm, const std::string& usage,
                           const po::options_description& options);

/// Parses a subcommand's arguments; `positional` names the key collecting positional args.
po::variables_map parse(const std::vector<std::string>& args, const po::options_description& options,
                        const char* positional = nullptr);

/// The registry and loader of this process, with the default plugin path loaded.
struct session {
    registry components;
    plugin_loader plugins{components};
    void load_default_plugins() { plugins.load_all(plugin_loader::default_search_path()); }
};

/// An existing run named by the positional arguments RUN_DIR [key=value ...]: the directory,
/// and its config.yaml resolved with the overrides. `command` names the subcommand in errors.
struct existing_run {
    std::filesystem::path dir;
    config_node resolved;
    std::vector<std::string> overrides;
};
existing_run load_existing_run(const po::variables_map& vm, const std::string& command, session& s);

int cmd_run(const std::vector<std::string>& args);
int cmd_sample(const std::vector<std::string>& args);
int cmd_evaluate(const std::vector<std::string>& args);
int cmd_check(const std::vector<std::string>& args);
int cmd_plugins(const std::vector<std::string>& args);
int cmd_describe(const std::vector<std::string>& args);
int cmd_new_plugin(const std::vector<std::string>& args);

}  // namespace difflab::cli
