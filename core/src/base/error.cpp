// SPDX-License-Identifier: Apache-2.0
// Formatting of compiler-style error messages.
#include <difflab/base/error.h>

namespace difflab {

std::string source_mark::text() const {
    if (file.empty()) return {};
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string format_error(const std::string& where, const std::string& message,
                         const std::vector<std::string>& context) {
    std::string out = where.empty() ? "error: " + message : where + ": error: " + message;
    for (const std::string& line : context) out += "\n    " + line;
    return out;
}

config_error config_error_at(const source_mark& mark, const std::string& message,
                             const std::vector<std::string>& context) {
    return config_error(format_error(mark.text(), message, context));
}

}  // namespace difflab
