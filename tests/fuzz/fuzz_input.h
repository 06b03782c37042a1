// SPDX-License-Identifier: Apache-2.0
// What every fuzz target shares: the input as parts and files, and the rule that bad input is
// a difflab::error (a clear message) and nothing else.
#pragma once

#include <difflab/base/error.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace difflab::fuzz {

/// The input split at each "\n%%\n" (a line holding only %%), for targets that read several
/// files: a seed written by hand keeps its parts readable, and a mutation that removes a
/// separator merely merges two parts.
inline std::vector<std::string> input_parts(const std::uint8_t* data, std::size_t size, std::size_t count) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    constexpr std::string_view separator = "\n%%\n";
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (parts.size() + 1 < count) {
        const std::size_t end = text.find(separator, start);
        if (end == std::string_view::npos) break;
        parts.emplace_back(text.substr(start, end - start));
        start = end + separator.size();
    }
    parts.emplace_back(text.substr(std::min(start, text.size())));
    parts.resize(count);
    return parts;
}

/// A directory of this process's own (fuzzers may run in parallel), emptied on each call and
/// removed when the process exits.
inline std::filesystem::path scratch_directory() {
    struct owned {
        std::filesystem::path dir =
            std::filesystem::temp_directory_path() / ("difflab_fuzz_" + std::to_string(static_cast<long>(::getpid())));
        ~owned() {
            std::error_code ignored;
            std::filesystem::remove_all(dir, ignored);
        }
    };
    static const owned scratch;
    std::filesystem::remove_all(scratch.dir);
    std::filesystem::create_directories(scratch.dir);
    return scratch.dir;
}

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Set by the replay tool: print what each input led to (the error, or that it was accepted).
inline bool report_outcomes = false;

/// Runs `read` on one input: a difflab::error is the promised answer to bad input; any other
/// exception (a library's own, std::bad_alloc from a size read off the file, ...) would reach
/// the user as an unclear message, so it aborts, which the fuzzer reports as a crash.
template <class F>
int expect_clear_errors(F&& read) {
    try {
        read();
        if (report_outcomes) std::printf("  accepted\n");
    } catch (const difflab::error& e) {
        if (report_outcomes) std::printf("  refused: %s\n", e.what());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz: an input escaped as %s, not a difflab::error: %s\n", typeid(e).name(), e.what());
        std::abort();
    }
    return 0;
}

}  // namespace difflab::fuzz
