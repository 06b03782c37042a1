// SPDX-License-Identifier: Apache-2.0
// Files read through zlib.
#include "gz_reader.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace difflab::plugins {

gz_reader::gz_reader(std::string path, std::string repair)
    : path_(std::move(path)), repair_(std::move(repair)), file_(gzopen(path_.c_str(), "rb")) {
    if (!file_)
        throw error(source_mark{path_}, fmt::format("cannot open: {}", errno ? std::strerror(errno) : "out of memory"));
    gzbuffer(file_, 1 << 20);
}

gz_reader::~gz_reader() {
    gzclose(file_);
}

void gz_reader::check_error(int n, const std::string& what) const {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (n < 0 || (code != Z_OK && code != Z_BUF_ERROR))
        throw error(source_mark{path_},
                    fmt::format("cannot decompress ({}); the file is corrupt, {}", message, repair_));
    if (code == Z_BUF_ERROR)
        throw error(
            source_mark{path_},
            fmt::format("the compressed data ends early (truncated .gz file) while reading {}; {}", what, repair_));
}

void gz_reader::read(std::uint8_t* out, std::size_t bytes, const std::string& what) {
    std::size_t got = 0;
    while (got < bytes) {
        const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes - got, std::size_t{1} << 26));
        const int n = gzread(file_, out + got, chunk);
        if (n > 0) {
            got += static_cast<std::size_t>(n);
            continue;
        }
        check_error(n, what);
        throw error(source_mark{path_}, fmt::format("file ends after {} of the {} bytes of {}", got, bytes, what));
    }
}

std::vector<std::uint8_t> gz_reader::read_counted(std::uint64_t bytes, const std::string& what) {
    constexpr std::uint64_t chunk = std::uint64_t{1} << 20;
    std::vector<std::uint8_t> out;
    std::uint64_t got = 0;
    while (got < bytes) {
        out.resize(static_cast<std::size_t>(got + std::min(chunk, bytes - got)));
        const int n = gzread(file_, out.data() + got, static_cast<unsigned>(out.size() - got));
        if (n > 0) {
            got += static_cast<std::uint64_t>(n);
            continue;
        }
        check_error(n, what);
        throw error(source_mark{path_}, fmt::format("file ends after {} of the {} bytes of {}", got, bytes, what));
    }
    return out;
}

std::string gz_reader::read_all() {
    std::string text;
    char buffer[1 << 16];
    for (;;) {
        const int n = gzread(file_, buffer, sizeof buffer);
        if (n > 0) {
            text.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        check_error(n, "the file");
        return text;
    }
}

}  // namespace difflab::plugins
