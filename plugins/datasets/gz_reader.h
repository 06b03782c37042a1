// SPDX-License-Identifier: Apache-2.0
// Files read through zlib, gzipped or plain: the data sets Debian ships compressed.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// A file read through zlib, gzipped or plain, decompressed on the fly. Errors name the file and
/// end with `repair` (how to get an intact copy).
class gz_reader {
public:
    gz_reader(std::string path, std::string repair);
    ~gz_reader();
    gz_reader(const gz_reader&) = delete;
    gz_reader& operator=(const gz_reader&) = delete;

    /// Reads exactly `bytes` bytes of `what`, or throws an error naming the file and the shortfall.
    void read(std::uint8_t* out, std::size_t bytes, const std::string& what);
    /// Exactly `bytes` bytes of `what`, a count read from the file itself: memory grows with the data
    /// that is there, so a damaged count (4 billion images) is a short-read error, not a terabyte
    /// allocation (found by fuzzing the IDX reader).
    std::vector<std::uint8_t> read_counted(std::uint64_t bytes, const std::string& what);
    /// The rest of the file, decompressed; throws on corrupt or truncated data.
    std::string read_all();

    const std::string& path() const { return path_; }

private:
    /// After gzread returned n <= 0: the error of a corrupt or truncated file, if it is one.
    void check_error(int n, const std::string& what) const;

    std::string path_, repair_;
    gzFile file_;
};

}  // namespace difflab::plugins
