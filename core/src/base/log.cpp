// SPDX-License-Identifier: Apache-2.0
// Leveled logging to stderr.
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
    std::fprintf(stderr, "%s%s\n", prefix, line.c_str());
    std::fflush(stderr);
}

}  // namespace difflab
