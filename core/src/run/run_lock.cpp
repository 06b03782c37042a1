// SPDX-License-Identifier: Apache-2.0
// One process per run directory.
#include <difflab/base/error.h>
#include <difflab/run/run_lock.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace difflab {

namespace fs = std::filesystem;

run_lock::run_lock(const fs::path& run_dir) {
    const fs::path parent = run_dir.parent_path().empty() ? fs::path(".") : run_dir.parent_path();
    fs::create_directories(parent);
    const fs::path file = parent / ("." + run_dir.filename().string() + ".lock");
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw error(source_mark{file.string()}, fmt::format("cannot open the run's lock file: {}; check that {} is "
                                                            "writable",
                                                            std::strerror(errno), parent.string()));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char text[32] = {};
        const ssize_t n = ::pread(fd_, text, sizeof text - 1, 0);
        ::close(fd_);
        fd_ = -1;
        if (err != EWOULDBLOCK)
            throw error(source_mark{file.string()}, fmt::format("cannot lock the run directory: {}", std::strerror(err)));
        const std::string holder = n > 0 ? std::string(text, static_cast<std::size_t>(n)) : std::string("unknown");
        throw config_error(source_mark{run_dir.string()},
                           fmt::format("another difflab process (pid {}) is running in this run directory; wait for "
                                       "it to end, or give this run another name=",
                                       holder.substr(0, holder.find('\n'))));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        // The lock holds without the pid; a refused process then reports the pid as unknown.
    }
}

run_lock::~run_lock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays for the next run
}

}  // namespace difflab
