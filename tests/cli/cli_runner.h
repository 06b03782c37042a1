// SPDX-License-Identifier: Apache-2.0
// Runs the difflab executable as a user would and captures exit code, stdout and stderr.
#pragma once

#include <difflab/io/safetensors.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cli_test {

namespace fs = std::filesystem;

struct result {
    int exit_code;
    std::string out;
    std::string err;
};

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A scratch directory, removed afterwards.
struct scratch {
    fs::path root;
    explicit scratch(const std::string& name) : root(fs::temp_directory_path() / ("difflab_cli_" + name)) {
        fs::remove_all(root);
        fs::create_directories(root);
    }
    ~scratch() { fs::remove_all(root); }
    fs::path write(const std::string& file, const std::string& text) const {
        fs::create_directories((root / file).parent_path());
        std::ofstream(root / file) << text;
        return root / file;
    }
};

/// Runs `difflab ARGS` in `cwd` with DIFFLAB_PLUGIN_PATH=plugin_path (unset when empty).
inline result run(const std::string& args, const std::string& plugin_path = "",
                  const fs::path& cwd = fs::current_path()) {
    static int counter = 0;
    const fs::path base =
        fs::temp_directory_path() / ("difflab_cli_io_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    const std::string env =
        plugin_path.empty() ? "unset DIFFLAB_PLUGIN_PATH; " : "DIFFLAB_PLUGIN_PATH='" + plugin_path + "' ";
    const std::string command = "cd '" + cwd.string() + "' && " + env + "'" + DIFFLAB_CLI + "' " + args + " >'" +
                                base.string() + ".out' 2>'" + base.string() + ".err' </dev/null";
    const int status = std::system(command.c_str());
    result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(base.string() + ".out"),
             read_file(base.string() + ".err")};
    fs::remove(base.string() + ".out");
    fs::remove(base.string() + ".err");
    return r;
}

/// Starts `difflab ARGS` in `cwd` (output discarded); returns its pid.
inline pid_t start(const std::vector<std::string>& args, const fs::path& cwd) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::chdir(cwd.c_str()) != 0) ::_exit(127);
        ::unsetenv("DIFFLAB_PLUGIN_PATH");
        const int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 1);
        ::dup2(null, 2);
        std::vector<char*> argv{const_cast<char*>(DIFFLAB_CLI)};
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(DIFFLAB_CLI, argv.data());
        ::_exit(127);
    }
    return pid;
}

/// Every tensor of two safetensors files, byte for byte.
inline bool same_tensors(const fs::path& a, const fs::path& b) {
    const difflab::safetensors_file x = difflab::read_safetensors(a), y = difflab::read_safetensors(b);
    if (x.tensors.size() != y.tensors.size()) return false;
    for (const auto& entry : x.tensors) {
        const auto* other = y.find(entry.name);
        if (!other || other->data != entry.data || other->shape != entry.shape) return false;
    }
    return true;
}

/// The directory of one fixture plugin case.
inline std::string fixture(const std::string& name) {
    return std::string(DIFFLAB_FIXTURE_PLUGINS) + "/" + name;
}

}  // namespace cli_test
