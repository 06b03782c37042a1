// SPDX-License-Identifier: Apache-2.0
// A run directory that cannot be written is refused before anything is read, removed or trained.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_runner.h"

using namespace cli_test;

namespace {

const char* experiment = R"(name: tiny
data: {type: toy2d, kind: moons, size: 256}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: mlp, hidden: 32, layers: 2}
task: {type: generation}
train: {steps: 4, batch_size: 16, checkpoint_every: 2}
sample: {sampler: {type: ddim, steps: 2}, count: 4}
)";

/// Runs `difflab ARGS` in `cwd` while `directory` is read-only. Root ignores permissions, so as
/// root the directory is bind-mounted read-only in a private mount namespace (unshare -m); as
/// anyone else its permissions are dropped. `available` is false where neither works.
result run_with_read_only(const fs::path& directory, const std::string& args, const fs::path& cwd, bool& available) {
    available = true;
    if (::geteuid() != 0) {
        fs::permissions(directory, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                        fs::perm_options::remove);
        const result r = run(args, "", cwd);
        fs::permissions(directory, fs::perms::owner_write, fs::perm_options::add);
        return r;
    }
    if (std::system("unshare -m true >/dev/null 2>&1") != 0) {
        available = false;
        return {};
    }
    const fs::path out = cwd / "read_only.out", err = cwd / "read_only.err";
    const std::string d = directory.string();
    const std::string command = "unshare -m sh -c \"mount --bind -o ro '" + d + "' '" + d + "' && cd '" + cwd.string() +
                                "' && unset DIFFLAB_PLUGIN_PATH && '" + DIFFLAB_CLI + "' " + args + "\" >'" +
                                out.string() + "' 2>'" + err.string() + "' </dev/null";
    const int status = std::system(command.c_str());
    result r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
    fs::remove(out);
    fs::remove(err);
    return r;
}

}  // namespace

TEST_CASE("a read-only run directory is refused before a run reads, removes or trains anything") {
    scratch s("read_only");
    s.write("tiny.yaml", experiment);
    REQUIRE(run("run tiny.yaml --quiet", "", s.root).exit_code == 0);
    const fs::path run_dir = s.root / "runs/tiny";
    const std::string checkpoint = read_file(run_dir / "checkpoints/latest");
    for (const char* mode : {"--overwrite", "--resume train.steps=6"}) {
        CAPTURE(mode);
        bool available = false;
        const result r = run_with_read_only(run_dir, std::string("run tiny.yaml ") + mode, s.root, available);
        if (!available) {
            MESSAGE("skipped: as root without a private mount namespace nothing is read-only");
            return;
        }
        CHECK(r.exit_code == 2);
        CHECK(r.err == "runs/tiny: error: the run directory is not writable (Read-only file system); make it "
                       "writable, or start another run with name=NEW\n");
        CHECK(read_file(run_dir / "checkpoints/latest") == checkpoint);
        CHECK(fs::exists(run_dir / "config.yaml"));
    }
}

TEST_CASE("a new run under a read-only runs directory is refused at its lock, creating nothing") {
    scratch s("read_only_parent");
    s.write("tiny.yaml", experiment);
    fs::create_directories(s.root / "runs");
    bool available = false;
    const result r = run_with_read_only(s.root / "runs", "run tiny.yaml", s.root, available);
    if (!available) {
        MESSAGE("skipped: as root without a private mount namespace nothing is read-only");
        return;
    }
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("runs/.tiny.lock: error: cannot open the run's lock file: ", 0) == 0);
    CHECK(r.err.find("; check that runs is writable\n") != std::string::npos);
    CHECK(fs::is_empty(s.root / "runs"));
}
