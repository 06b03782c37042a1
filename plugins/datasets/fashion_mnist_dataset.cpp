// SPDX-License-Identifier: Apache-2.0
// The 'fashion_mnist' dataset: IDX files through zlib, padding or resizing, filters.
#include "fashion_mnist_dataset.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "gz_reader.h"

namespace difflab::plugins {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t side = 28;
constexpr const char* install_hint =
    "install Debian package dataset-fashion-mnist (tools/setup installs it), or set `directory`";
constexpr const char* reinstall_hint = "reinstall dataset-fashion-mnist or replace the file";

std::uint32_t big_endian(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

/// `directory/name.gz`, else `directory/name` uncompressed, else a config_error naming the .gz.
std::string find_file(const std::string& directory, const std::string& name) {
    const fs::path gz = fs::path(directory) / (name + ".gz"), plain = fs::path(directory) / name;
    std::error_code ec;
    if (fs::is_regular_file(gz, ec)) return gz.string();
    if (fs::is_regular_file(plain, ec)) return plain.string();
    throw config_error(source_mark{gz.string()}, fmt::format("missing Fashion-MNIST file; {}", install_hint));
}

image_store pad_images(const image_store& in, std::int64_t size) {
    image_store out{1, size, size, std::vector<std::uint8_t>(static_cast<std::size_t>(in.count() * size * size), 0),
                    in.labels};
    const std::int64_t top = (size - in.height) / 2, left = (size - in.width) / 2;
    for (std::int64_t i = 0; i < in.count(); ++i)
        for (std::int64_t y = 0; y < in.height; ++y)
            std::memcpy(out.pixels.data() + (i * size + top + y) * size + left,
                        in.pixels.data() + (i * in.height + y) * in.width, static_cast<std::size_t>(in.width));
    return out;
}

}  // namespace

image_store read_idx_pair(const std::string& images_path, const std::string& labels_path) {
    gz_reader images(images_path, reinstall_hint), labels(labels_path, reinstall_hint);
    std::uint8_t header[16];
    images.read(header, 16, "the 16-byte IDX header");
    if (big_endian(header) != 0x00000803)
        throw error(source_mark{images_path}, fmt::format("not an IDX image file: magic number 0x{:08x}, expected "
                                                          "0x00000803 (unsigned bytes, 3 dimensions)",
                                                          big_endian(header)));
    const std::int64_t count = big_endian(header + 4), rows = big_endian(header + 8), cols = big_endian(header + 12);
    if (rows != side || cols != side)
        throw error(source_mark{images_path},
                    fmt::format("images are {}x{}; Fashion-MNIST images are {}x{}", rows, cols, side, side));
    std::uint8_t label_header[8];
    labels.read(label_header, 8, "the 8-byte IDX header");
    if (big_endian(label_header) != 0x00000801)
        throw error(source_mark{labels_path}, fmt::format("not an IDX label file: magic number 0x{:08x}, expected "
                                                          "0x00000801 (unsigned bytes, 1 dimension)",
                                                          big_endian(label_header)));
    const std::int64_t label_count = big_endian(label_header + 4);
    if (label_count != count)
        throw error(source_mark{labels_path},
                    fmt::format("holds {} labels but {} holds {} images", label_count, images_path, count));
    if (count == 0) throw error(source_mark{images_path}, "holds no images");

    image_store store{1, side, side, {}, {}};
    store.pixels =
        images.read_counted(static_cast<std::uint64_t>(count * side * side),
                            fmt::format("image data (the header promises {} images of {}x{})", count, side, side));
    const std::vector<std::uint8_t> bytes =
        labels.read_counted(static_cast<std::uint64_t>(count), fmt::format("labels (the header promises {})", count));
    store.labels.assign(bytes.begin(), bytes.end());
    for (std::int64_t i = 0; i < count; ++i)
        if (bytes[static_cast<std::size_t>(i)] > 9)
            throw error(source_mark{labels_path}, fmt::format("label {} of example {} is not a class 0..9",
                                                              bytes[static_cast<std::size_t>(i)], i));
    return store;
}

param_spec<fashion_mnist_dataset::options> fashion_mnist_dataset::params() {
    param_spec<options> spec{"Fashion-MNIST: 28x28 gray clothing images in 10 classes (Xiao et al. 2017)."};
    spec.add(&options::split, "split", "Which files: train (60,000 images) or test (10,000).",
             one_of({"train", "test"}));
    spec.add(&options::directory, "directory",
             "Folder of the IDX files (train-images-idx3-ubyte.gz, ...; plain files work too).", non_empty());
    spec.add(&options::classes, "classes", "Classes to keep (labels keep their numbers); empty: all.",
             closed_range<std::int64_t>(0, 9));
    spec.add(&options::size, "size", "Side of the examples: 28 as stored; larger pads or resizes (DDPM: 32).",
             closed_range<std::int64_t>(1, 1024));
    spec.add(&options::resize, "resize",
             "How to reach `size`: pad (centered, with background -1; needs size >= 28) or bilinear "
             "(antialiased when shrinking).",
             one_of({"pad", "bilinear"}));
    spec.add(&options::hflip, "hflip",
             "Add a left-right mirrored copy of every image (indices N..2N-1): random-flip augmentation.");
    spec.add(&options::flip, "flip",
             "Mirror every image: none, horizontal (left-right) or vertical (upside down), e.g. as an "
             "out-of-distribution set (Graham et al. 2023).",
             one_of({"none", "horizontal", "vertical"}));
    spec.add(&options::limit, "limit", "Keep only the first N examples (after `classes`); 0: all.",
             at_least<std::int64_t>(0));
    return spec;
}

namespace {

image_store load(const fashion_mnist_dataset::options& o) {
    if (o.resize == "pad" && o.size < side)
        throw config_error(
            fmt::format("fashion_mnist: size {} is smaller than the {}x{} images; padding "
                        "needs size >= {}, or set resize: bilinear",
                        o.size, side, side, side));
    const std::string prefix = o.split == "train" ? "train" : "t10k";
    const std::string images = find_file(o.directory, prefix + "-images-idx3-ubyte");
    image_store store = read_idx_pair(images, find_file(o.directory, prefix + "-labels-idx1-ubyte"));
    keep_examples(store, o.classes, o.limit, "fashion_mnist");
    if (o.flip != "none") mirror_images(store, o.flip == "vertical");
    if (o.size == side) return store;
    return o.resize == "pad" ? pad_images(store, o.size) : resize_images(store, o.size);
}

}  // namespace

fashion_mnist_dataset::fashion_mnist_dataset(const options& opts, build_context&)
    : image_dataset("fashion_mnist", load(opts), opts.hflip), opts_(opts) {}

}  // namespace difflab::plugins
