// SPDX-License-Identifier: Apache-2.0
// Leveled logging to stderr through fmt; stdout is kept for what a command prints as its result.
#pragma once

#include <fmt/core.h>

#include <string>
#include <utility>

namespace difflab {

enum class log_level { quiet, warn, info, debug };

void set_log_level(log_level level);
log_level current_log_level();
/// Writes one line to stderr (when `level` is enabled).
void write_log(log_level level, const std::string& line);

template <class... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
    if (current_log_level() >= log_level::info)
        write_log(log_level::info, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void log_warn(fmt::format_string<Args...> format, Args&&... args) {
    if (current_log_level() >= log_level::warn)
        write_log(log_level::warn, fmt::format(format, std::forward<Args>(args)...));
}
template <class... Args>
void log_debug(fmt::format_string<Args...> format, Args&&... args) {
    if (current_log_level() >= log_level::debug)
        write_log(log_level::debug, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace difflab
