// SPDX-License-Identifier: Apache-2.0
// Tests of the 'cifar10' dataset on batch files written in the binary format.
#include "cifar10_dataset.h"

#include <difflab/base/error.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>

using namespace difflab;
using difflab::plugins::cifar10_dataset;
namespace fs = std::filesystem;

namespace {

std::vector<std::int64_t> range(std::int64_t first, std::int64_t count) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(count));
    std::iota(out.begin(), out.end(), first);
    return out;
}

/// A fresh directory under the system's temporary directory, removed at the end of the test.
struct temp_dir {
    fs::path path;
    explicit temp_dir(const std::string& name)
        : path(fs::temp_directory_path() / ("difflab_cifar10_" + std::to_string(::getpid()) + "_" + name)) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
};

/// The byte of record `r` of batch `b` at channel c, row y, column x: distinct enough to
/// catch a swapped axis, a wrong record or a wrong file.
std::uint8_t byte_at(int b, int r, int c, int y, int x) {
    return static_cast<std::uint8_t>(b * 50 + r * 7 + c * 3 + y * 5 + x);
}

/// Writes `records` records with labels (b + r) % 10 to `path`.
void write_batch(const fs::path& path, int b, int records) {
    std::ofstream out(path, std::ios::binary);
    for (int r = 0; r < records; ++r) {
        out.put(static_cast<char>((b + r) % 10));
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 32; ++y)
                for (int x = 0; x < 32; ++x) out.put(static_cast<char>(byte_at(b, r, c, y, x)));
    }
}

/// Five training batches of 2 records and a test batch (b = 6) of 3.
void write_all(const fs::path& dir) {
    for (int b = 1; b <= 5; ++b) write_batch(dir / ("data_batch_" + std::to_string(b) + ".bin"), b, 2);
    write_batch(dir / "test_batch.bin", 6, 3);
}

cifar10_dataset from_dir(const fs::path& dir, const std::string& extra = "") {
    return testing::build<cifar10_dataset>("{directory: '" + dir.string() + "'" + extra + "}");
}

}  // namespace

TEST_CASE("batch files are read in order with planes as channels") {
    temp_dir dir("read");
    write_all(dir.path);
    const auto train = from_dir(dir.path);
    CHECK(train.size() == 10);
    CHECK(train.example_shape() == shape_t{3, 32, 32});
    const auto batch = train.get(range(0, 10));
    CHECK(batch.labels.to_vector() == std::vector<float>{1, 2, 2, 3, 3, 4, 4, 5, 5, 6});
    const auto x = batch.x.to_vector();
    bool exact = true;
    for (int i = 0; i < 10; ++i)
        for (int c = 0; c < 3; ++c)
            for (int y = 0; y < 32; ++y)
                for (int px = 0; px < 32; ++px)
                    exact = exact && x[static_cast<std::size_t>(((i * 3 + c) * 32 + y) * 32 + px)] ==
                                         static_cast<float>(byte_at(i / 2 + 1, i % 2, c, y, px) / 127.5 - 1);
    CHECK(exact);
    const auto test = from_dir(dir.path, ", split: test");
    CHECK(test.size() == 3);
    CHECK(test.get({0, 1, 2}).labels.to_vector() == std::vector<float>{6, 7, 8});
}

TEST_CASE("classes, limit, hflip and the extracted folder") {
    temp_dir dir("options");
    fs::create_directories(dir.path / "cifar-10-batches-bin");
    write_all(dir.path / "cifar-10-batches-bin");
    const auto all = from_dir(dir.path);
    const auto some = from_dir(dir.path, ", classes: [3, 6], limit: 3");
    CHECK(some.size() == 3);
    CHECK(some.get({0, 1, 2}).labels.to_vector() == std::vector<float>{3, 3, 6});
    CHECK(some.get({0, 1, 2}).x.to_vector() == all.get({3, 4, 9}).x.to_vector());
    const auto flipped = from_dir(dir.path, ", hflip: true");
    CHECK(flipped.size() == 20);
    const auto a = all.get({4}).x.to_vector(), f = flipped.get({14}).x.to_vector();
    bool mirrored = true;
    for (int row = 0; row < 3 * 32; ++row)
        for (int x = 0; x < 32; ++x)
            mirrored =
                mirrored && f[static_cast<std::size_t>(row * 32 + x)] == a[static_cast<std::size_t>(row * 32 + 31 - x)];
    CHECK(mirrored);
    CHECK(flipped.get({14}).labels.item() == all.get({4}).labels.item());
}

TEST_CASE("missing and truncated batch files give clear errors") {
    temp_dir dir("errors");
    const std::string first = (dir.path / "data_batch_1.bin").string();
    CHECK_THROWS_WITH_AS(from_dir(dir.path),
                         (first + ": error: missing CIFAR-10 batch file; download the binary version "
                                  "(cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html and "
                                  "extract it into `directory`")
                             .c_str(),
                         config_error);
    write_all(dir.path);
    fs::resize_file(dir.path / "data_batch_3.bin", 3073 + 1000);
    CHECK_THROWS_WITH_AS(from_dir(dir.path),
                         ((dir.path / "data_batch_3.bin").string() +
                          ": error: truncated CIFAR-10 batch: 4073 bytes is not a whole number of 3073-byte records "
                          "(record 1 has 1000 of its 3073 bytes); download the binary version "
                          "(cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html and extract it "
                          "into `directory`")
                             .c_str(),
                         error);
    write_all(dir.path);
    {
        std::fstream file(dir.path / "test_batch.bin", std::ios::binary | std::ios::in | std::ios::out);
        file.seekp(3073);
        file.put(static_cast<char>(42));
    }
    CHECK_THROWS_WITH_AS(from_dir(dir.path, ", split: test"),
                         ((dir.path / "test_batch.bin").string() +
                          ": error: record 1 has label 42; CIFAR-10 labels are 0..9 (is this the CIFAR-100 file?)")
                             .c_str(),
                         error);
    CHECK_THROWS_AS(testing::build<cifar10_dataset>("{split: train}"), config_error);  // directory is required
}
