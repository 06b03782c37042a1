// SPDX-License-Identifier: Apache-2.0
// One-line, compiler-style errors: "where: error: what; how to fix", context lines below.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace difflab {

/// Where a value came from: a file (or "command line") with 1-based line and column.
/// An empty file means "no source" (a default filled in from a parameter table).
struct source_mark {
    std::string file;
    int line = 0;
    int column = 0;

    bool known() const { return !file.empty(); }
    /// "file:line:col", "file" when line is 0, "" when unknown.
    std::string text() const;
};

/// A failure at run time (exit code 1): I/O, numerics, a plugin that threw.
class error : public std::runtime_error {
public:
    explicit error(const std::string& message) : std::runtime_error(message) {}
};

/// A usage or configuration mistake the user can fix (exit code 2).
class config_error : public error {
public:
    using error::error;
};

/// Formats "where: error: message" followed by each context line indented by four spaces.
std::string format_error(const std::string& where, const std::string& message,
                         const std::vector<std::string>& context = {});

/// Builds a config_error located at `mark`.
config_error config_error_at(const source_mark& mark, const std::string& message,
                             const std::vector<std::string>& context = {});

}  // namespace difflab
