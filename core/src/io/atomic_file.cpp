// SPDX-License-Identifier: Apache-2.0
// Streaming atomic file writer (temp file, fsync, rename, directory fsync).
#include <difflab/base/distributed.h>
#include <difflab/base/error.h>
#include <difflab/io/atomic_file.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace difflab {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t buffer_size = std::size_t{1} << 20;
}

atomic_file_writer::atomic_file_writer(fs::path path)
    : path_(std::move(path)),
      temp_(path_.string() + ".tmp"),
      discard_(!distributed::is_root()),
      buffer_(discard_ ? nullptr : new char[buffer_size]) {
    if (discard_) return;
    fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
        const int err = errno;
        delete[] buffer_;
        throw error(source_mark{temp_.string()}, fmt::format("cannot create file: {}; check that the "
                                                             "directory exists and is writable",
                                                             std::strerror(err)));
    }
}

atomic_file_writer::~atomic_file_writer() {
    if (fd_ >= 0) {
        ::close(fd_);
        std::error_code ignored;
        fs::remove(temp_, ignored);
    }
    delete[] buffer_;
}

void atomic_file_writer::fail(const char* what) {
    const int err = errno;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    std::error_code ignored;
    fs::remove(temp_, ignored);
    throw error(source_mark{temp_.string()}, fmt::format("{}: {}; check free disk space", what, std::strerror(err)));
}

void atomic_file_writer::write_all(const void* data, std::size_t bytes) {
    const char* p = static_cast<const char*>(data);
    while (bytes > 0) {
        const ssize_t n = ::write(fd_, p, bytes);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
}

void atomic_file_writer::flush_buffer() {
    write_all(buffer_, buffered_);
    buffered_ = 0;
}

void atomic_file_writer::write(const void* data, std::size_t bytes) {
    if (discard_) return;
    if (fd_ < 0) throw error(source_mark{path_.string()}, "write after commit; create a new writer");
    if (bytes == 0) return;  // an empty tensor's data pointer may be null
    if (buffered_ + bytes > buffer_size) flush_buffer();
    if (bytes >= buffer_size) {
        write_all(data, bytes);
        return;
    }
    std::memcpy(buffer_ + buffered_, data, bytes);
    buffered_ += bytes;
}

void atomic_file_writer::commit() {
    if (discard_) return;
    if (fd_ < 0) throw error(source_mark{path_.string()}, "commit called twice; create a new writer");
    flush_buffer();
    if (::fsync(fd_) != 0) fail("cannot flush file to disk");
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0) fail("cannot close file");
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        std::error_code ignored;
        fs::remove(temp_, ignored);
        throw error(source_mark{path_.string()},
                    fmt::format("cannot rename {} over it: {}", temp_.filename().string(), std::strerror(err)));
    }
    sync_directory(path_.has_parent_path() ? path_.parent_path() : fs::path("."));
}

void write_file_atomically(const fs::path& path, const std::string& content) {
    atomic_file_writer writer(path);
    writer.write(content.data(), content.size());
    writer.commit();
}

void sync_directory(const fs::path& directory) {
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;  // not fatal: the data is on disk, only the rename may need a replay
    ::fsync(fd);
    ::close(fd);
}

}  // namespace difflab
