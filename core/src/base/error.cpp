// SPDX-License-Identifier: Apache-2.0
// Compiler-style errors: their parts, their one-line form, and rethrowing at boundaries.
#include <difflab/base/error.h>

#include <utility>

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

error::error(std::string message, std::vector<std::string> context)
    : error(source_mark{}, std::move(message), std::move(context)) {}

error::error(const source_mark& where, std::string message, std::vector<std::string> context)
    : std::runtime_error(format_error(where.text(), message, context)),
      where_(where),
      message_(std::move(message)),
      context_(std::move(context)) {}

std::string error::problem() const {
    return message_.substr(0, message_.find("; "));
}

std::string error::fix() const {
    const std::size_t split = message_.find("; ");
    return split == std::string::npos ? std::string() : message_.substr(split + 2);
}

void rethrow_with_context(const std::string& prefix, const source_mark& where) {
    try {
        throw;
    } catch (const config_error& e) {
        throw config_error(e.where().known() ? e.where() : where, prefix + e.message(), e.context());
    } catch (const error& e) {
        throw error(e.where().known() ? e.where() : where, prefix + e.message(), e.context());
    } catch (const std::exception& e) {
        throw error(where, prefix + e.what());
    } catch (...) {
        throw error(where, prefix + "a non-standard exception (not derived from std::exception)");
    }
}

}  // namespace difflab
