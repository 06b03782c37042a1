// SPDX-License-Identifier: Apache-2.0
// The 'cifar10' dataset: binary batch files, checked record by record.
#include "cifar10_dataset.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace difflab::plugins {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t image_bytes = 3 * 32 * 32, record_bytes = 1 + image_bytes;
constexpr const char* download_hint =
    "download the binary version (cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html and "
    "extract it into `directory`";

/// The folder that holds the batch files: `directory` itself or the tarball's
/// cifar-10-batches-bin inside it.
fs::path batch_folder(const std::string& directory, const std::string& first_file) {
    std::error_code ec;
    const fs::path nested = fs::path(directory) / "cifar-10-batches-bin";
    if (!fs::exists(fs::path(directory) / first_file, ec) && fs::exists(nested / first_file, ec)) return nested;
    return directory;
}

}  // namespace

void read_cifar10_batch(const std::string& path, image_store& images) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw config_error(source_mark{path}, fmt::format("missing CIFAR-10 batch file; {}", download_hint));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error(source_mark{path}, fmt::format("cannot open: {}", std::strerror(errno)));
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw error(source_mark{path}, "read failed");
    const std::int64_t size = static_cast<std::int64_t>(bytes.size()), records = size / record_bytes;
    if (size % record_bytes != 0)
        throw error(
            source_mark{path},
            fmt::format("truncated CIFAR-10 batch: {} bytes is not a whole number of {}-byte records (record {} "
                        "has {} of its {} bytes); {}",
                        size, record_bytes, records, size % record_bytes, record_bytes, download_hint));
    if (records == 0) throw error(source_mark{path}, fmt::format("empty CIFAR-10 batch file; {}", download_hint));
    images.pixels.reserve(images.pixels.size() + static_cast<std::size_t>(records * image_bytes));
    for (std::int64_t r = 0; r < records; ++r) {
        const auto* record = reinterpret_cast<const std::uint8_t*>(bytes.data()) + r * record_bytes;
        if (record[0] > 9)
            throw error(source_mark{path}, fmt::format("record {} has label {}; CIFAR-10 labels are 0..9 (is this the "
                                                       "CIFAR-100 file?)",
                                                       r, record[0]));
        images.labels.push_back(record[0]);
        images.pixels.insert(images.pixels.end(), record + 1, record + record_bytes);
    }
}

param_spec<cifar10_dataset::options> cifar10_dataset::params() {
    param_spec<options> spec{"CIFAR-10: 32x32 color images in 10 classes (Krizhevsky 2009), binary version."};
    spec.require(&options::directory, "directory",
                 "Folder of data_batch_1.bin ... data_batch_5.bin and test_batch.bin (or of the extracted "
                 "cifar-10-batches-bin).",
                 non_empty());
    spec.add(&options::split, "split", "Which files: train (50,000 images) or test (10,000).",
             one_of({"train", "test"}));
    spec.add(&options::classes, "classes", "Classes to keep (labels keep their numbers); empty: all.",
             closed_range<std::int64_t>(0, 9));
    spec.add(&options::hflip, "hflip",
             "Add a left-right mirrored copy of every image (indices N..2N-1): random-flip augmentation, as DDPM.");
    spec.add(&options::limit, "limit", "Keep only the first N examples (after `classes`); 0: all.",
             at_least<std::int64_t>(0));
    return spec;
}

namespace {

image_store load(const cifar10_dataset::options& o) {
    std::vector<std::string> files;
    if (o.split == "train") {
        for (int b = 1; b <= 5; ++b) files.push_back(fmt::format("data_batch_{}.bin", b));
    } else {
        files.push_back("test_batch.bin");
    }
    const fs::path folder = batch_folder(o.directory, files.front());
    image_store store{3, 32, 32, {}, {}};
    for (const std::string& file : files) read_cifar10_batch((folder / file).string(), store);
    keep_examples(store, o.classes, o.limit, "cifar10");
    return store;
}

}  // namespace

cifar10_dataset::cifar10_dataset(const options& opts, build_context&)
    : image_dataset("cifar10", load(opts), opts.hflip), opts_(opts) {}

}  // namespace difflab::plugins
