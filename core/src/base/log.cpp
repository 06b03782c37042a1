// SPDX-License-Identifier: Apache-2.0
// Leveled logging to stderr.
#include <difflab/base/distributed.h>
#include <difflab/base/log.h>

#include <atomic>
#include <cstdio>

namespace difflab {

namespace {
std::atomic<log_level> level{log_level::info};
}

void set_log_level(log_level l) {
    level = l;
}
log_level current_log_level() {
    return level;
}

void write_log(log_level l, const std::string& line) {
    const char* prefix = l == log_level::warn ? "warning: " : l == log_level::debug ? "debug: " : "";
    // In a job of several ranks, rank 0 logs alone but for warnings and errors, which name their rank.
    std::fprintf(stderr, "%s%s%s\n", distributed::log_prefix().c_str(), prefix, line.c_str());
    std::fflush(stderr);
}

}  // namespace difflab
