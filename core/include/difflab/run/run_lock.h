// SPDX-License-Identifier: Apache-2.0
// One process per run directory.
#pragma once

#include <filesystem>

namespace difflab {

/// Holds the lock of a run directory for one process: an advisory lock (flock) on a file beside
/// the directory (`.<name>.lock` in its parent, so that --overwrite, which removes the
/// directory, cannot remove it), holding the owner's pid. A second process asking for the same
/// directory is refused with a config_error naming the first one's pid; the kernel drops the lock
/// when its holder exits or is killed, so a stale lock file never blocks a new run.
class run_lock {
public:
    explicit run_lock(const std::filesystem::path& run_dir);
    ~run_lock();
    run_lock(const run_lock&) = delete;
    run_lock& operator=(const run_lock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace difflab
