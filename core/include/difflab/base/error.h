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

/// A failure at run time (exit code 1): I/O, numerics, a plugin that threw. Every difflab
/// error is built from its parts — where (a file:line:col, a path, or nowhere), the message
/// "what is wrong; how to fix it" (the fix after the first "; ") and context lines — and
/// what() is the one-line compiler-style form printed from them:
///     where: error: what is wrong; how to fix it
///         context line
class error : public std::runtime_error {
public:
    /// An error with no place: a computation, a command-line option.
    explicit error(std::string message, std::vector<std::string> context = {});
    /// An error at a place: a YAML node's mark, or a file (source_mark{path}).
    error(const source_mark& where, std::string message, std::vector<std::string> context = {});

    const source_mark& where() const { return where_; }
    /// "what is wrong; how to fix it", without the place and the "error:" tag.
    const std::string& message() const { return message_; }
    /// What is wrong: the message up to its first "; ".
    std::string problem() const;
    /// How to fix it: the message after its first "; " (empty when it names no fix).
    std::string fix() const;
    const std::vector<std::string>& context() const { return context_; }

private:
    source_mark where_;
    std::string message_;
    std::vector<std::string> context_;
};

/// A usage or configuration mistake the user can fix (exit code 2).
class config_error : public error {
public:
    using error::error;
};

/// Formats "where: error: message" followed by each context line indented by four spaces;
/// "error: message" when `where` is empty. error::what() is this form.
std::string format_error(const std::string& where, const std::string& message,
                         const std::vector<std::string>& context = {});

/// For a boundary between components (a plugin's registration or constructor, a task, a
/// metric): called inside a catch block, rethrows the exception being handled as a difflab
/// error of the same kind — a config_error stays a config_error (exit 2) — with `prefix`
/// ("metric 'fid': ") before its message, placed at `where` when it has no place of its own,
/// its context kept. Any other std::exception becomes an error (exit 1) with its text.
[[noreturn]] void rethrow_with_context(const std::string& prefix, const source_mark& where = {});

}  // namespace difflab
