// SPDX-License-Identifier: Apache-2.0
// Streaming atomic file writes: a temporary file beside the target, fsync, rename.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace difflab {

/// Writes a file of any size so that readers see either the old file or the complete new
/// one, never a prefix: data goes to "<path>.tmp", then `commit` flushes it to disk (fsync),
/// renames it over `path` and fsyncs the directory so the rename itself survives a crash.
/// Destroying the writer before `commit` removes the temporary file.
///
/// In a job of several MPI ranks only rank 0 writes: on the other ranks, which compute the same
/// outputs, the writer discards what it is given, so two ranks never race on "<path>.tmp".
class atomic_file_writer {
public:
    explicit atomic_file_writer(std::filesystem::path path);
    ~atomic_file_writer();
    atomic_file_writer(const atomic_file_writer&) = delete;
    atomic_file_writer& operator=(const atomic_file_writer&) = delete;

    /// Appends `bytes` bytes (buffered; large blocks go straight to the file).
    void write(const void* data, std::size_t bytes);
    /// Flushes, fsyncs, renames over the target and fsyncs its directory.
    void commit();

    const std::filesystem::path& path() const { return path_; }
    const std::filesystem::path& temp_path() const { return temp_; }

private:
    void flush_buffer();
    void write_all(const void* data, std::size_t bytes);
    void fail(const char* what);

    std::filesystem::path path_;
    std::filesystem::path temp_;
    int fd_ = -1;
    bool discard_ = false;  ///< a rank other than 0 of an MPI job
    char* buffer_;
    std::size_t buffered_ = 0;
};

/// Writes `content` to `path` atomically (an atomic_file_writer committed at once).
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

/// Fsyncs a directory so that a rename or file creation in it is on disk.
void sync_directory(const std::filesystem::path& directory);

}  // namespace difflab
