// SPDX-License-Identifier: Apache-2.0
// Tests of the 'fashion_mnist' dataset: the installed files, options, and corrupt files.
#include "fashion_mnist_dataset.h"

#include <difflab/base/error.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

using namespace difflab;
using difflab::plugins::fashion_mnist_dataset;
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
        : path(fs::temp_directory_path() / ("difflab_fmnist_" + std::to_string(::getpid()) + "_" + name)) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
};

void write_gz(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
    gzFile file = gzopen(path.c_str(), "wb");
    REQUIRE(file != nullptr);
    REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(file) == Z_OK);
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

/// IDX images (header claiming `claimed` images of 28x28, holding `count`) and labels.
std::vector<std::uint8_t> idx_images(std::uint32_t magic, std::uint32_t claimed, std::uint32_t count) {
    std::vector<std::uint8_t> out;
    put_u32(out, magic);
    put_u32(out, claimed);
    put_u32(out, 28);
    put_u32(out, 28);
    std::uint32_t state = 12345;
    for (std::uint32_t i = 0; i < count * 784; ++i) {
        state = state * 1103515245u + 12345u;  // incompressible-ish bytes, so a cut .gz ends early
        out.push_back(static_cast<std::uint8_t>(state >> 24));
    }
    return out;
}

std::vector<std::uint8_t> idx_labels(const std::vector<std::uint8_t>& labels) {
    std::vector<std::uint8_t> out;
    put_u32(out, 0x00000801);
    put_u32(out, static_cast<std::uint32_t>(labels.size()));
    out.insert(out.end(), labels.begin(), labels.end());
    return out;
}

fashion_mnist_dataset from_dir(const fs::path& dir, const std::string& extra = "") {
    return testing::build<fashion_mnist_dataset>("{directory: '" + dir.string() + "'" + extra + "}");
}

std::string message_of(const fs::path& dir) {
    try {
        from_dir(dir);
    } catch (const error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("the installed training and test sets have their known sizes, labels and pixels") {
    const auto train = testing::build<fashion_mnist_dataset>("{split: train}");
    CHECK(train.size() == 60000);
    CHECK(train.example_shape() == shape_t{1, 28, 28});
    const auto first = train.get({0, 1, 2, 3});
    // Training labels start 9 (ankle boot), 0, 0, 3; the first image's bytes sum to 76247.
    CHECK(first.labels.to_vector() == std::vector<float>{9, 0, 0, 3});
    const auto x = first.x.slice(0, 0, 1).to_vector();
    double byte_sum = 0;
    for (float v : x) byte_sum += std::round((v + 1) * 127.5);
    CHECK(byte_sum == 76247);
    CHECK(*std::min_element(x.begin(), x.end()) == -1.0f);
    CHECK(*std::max_element(x.begin(), x.end()) == 1.0f);
    // Each class has 6000 training images.
    const auto labels = train.get(range(0, 60000)).labels.to_vector();
    for (int k = 0; k < 10; ++k) CHECK(std::count(labels.begin(), labels.end(), static_cast<float>(k)) == 6000);

    const auto test = testing::build<fashion_mnist_dataset>("{split: test}");
    CHECK(test.size() == 10000);
    CHECK(test.get({0, 1, 2, 3, 4}).labels.to_vector() == std::vector<float>{9, 2, 1, 1, 6});
}

TEST_CASE("classes and limit keep the chosen examples in order") {
    const auto all = testing::build<fashion_mnist_dataset>("{split: test}");
    const auto some = testing::build<fashion_mnist_dataset>("{split: test, classes: [1, 6]}");
    CHECK(some.size() == 2000);
    const auto labels = some.get(range(0, 2000)).labels.to_vector();
    CHECK(std::all_of(labels.begin(), labels.end(), [](float l) { return l == 1 || l == 6; }));
    // Test labels run 9, 2, 1, 1, 6: the first kept examples are test images 2, 3 and 4.
    const auto few = testing::build<fashion_mnist_dataset>("{split: test, classes: [1, 6], limit: 3}");
    CHECK(few.size() == 3);
    CHECK(few.get({0, 1, 2}).x.to_vector() == all.get({2, 3, 4}).x.to_vector());
    CHECK(testing::build<fashion_mnist_dataset>("{split: test, limit: 10}").size() == 10);
    CHECK_THROWS_AS(testing::build<fashion_mnist_dataset>("{classes: [10]}"), config_error);
}

TEST_CASE("size 32 pads with background or resizes") {
    const auto plain = testing::build<fashion_mnist_dataset>("{split: test, limit: 8}");
    const auto padded = testing::build<fashion_mnist_dataset>("{split: test, limit: 8, size: 32}");
    CHECK(padded.example_shape() == shape_t{1, 32, 32});
    const auto p = padded.get(range(0, 8)).x, q = plain.get(range(0, 8)).x;
    // The 2-pixel border is background (-1); the inside is the 28x28 image unchanged.
    CHECK(p.slice(2, 2, 30).slice(3, 2, 30).contiguous().to_vector() == q.to_vector());
    const auto values = p.to_vector();
    int border = 0, border_background = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const std::int64_t y = static_cast<std::int64_t>(i / 32 % 32), x = static_cast<std::int64_t>(i % 32);
        if (y < 2 || y >= 30 || x < 2 || x >= 30) {
            ++border;
            border_background += values[i] == -1.0f;
        }
    }
    CHECK(border == 8 * (32 * 32 - 28 * 28));
    CHECK(border_background == border);

    const auto resized = testing::build<fashion_mnist_dataset>("{split: test, limit: 8, size: 32, resize: bilinear}");
    const auto r = resized.get(range(0, 8)).x.to_vector(), plain_values = q.to_vector();
    CHECK(resized.example_shape() == shape_t{1, 32, 32});
    // Upsampling keeps the mean brightness (within rounding and edge effects).
    const double mean_r = std::accumulate(r.begin(), r.end(), 0.0) / static_cast<double>(r.size());
    const double mean_q =
        std::accumulate(plain_values.begin(), plain_values.end(), 0.0) / static_cast<double>(plain_values.size());
    CHECK(std::abs(mean_r - mean_q) < 0.02);
    CHECK_THROWS_WITH_AS(testing::build<fashion_mnist_dataset>("{size: 16}"),
                         "error: fashion_mnist: size 16 is smaller than the 28x28 images; padding needs size >= 28, "
                         "or set resize: bilinear",
                         config_error);
}

TEST_CASE("hflip adds mirrored copies and examples do not depend on the batch") {
    const auto data = testing::build<fashion_mnist_dataset>("{split: test, limit: 5, hflip: true}");
    CHECK(data.size() == 10);
    const auto whole = data.get(range(0, 10));
    const auto w = whole.x.to_vector();
    const auto l = whole.labels.to_vector();
    for (std::int64_t i = 0; i < 5; ++i) {
        CHECK(l[static_cast<std::size_t>(i)] == l[static_cast<std::size_t>(5 + i)]);
        for (std::int64_t y = 0; y < 28; ++y)
            for (std::int64_t x = 0; x < 28; ++x)
                REQUIRE(w[static_cast<std::size_t>((5 + i) * 784 + y * 28 + x)] ==
                        w[static_cast<std::size_t>(i * 784 + y * 28 + 27 - x)]);
    }
    const auto part = data.get({7, 2});
    const auto p = part.x.to_vector();
    CHECK(std::equal(p.begin(), p.begin() + 784, w.begin() + 7 * 784));
    CHECK(std::equal(p.begin() + 784, p.end(), w.begin() + 2 * 784));
    CHECK_THROWS_WITH_AS(data.get({10}), "error: fashion_mnist: example index 10 is out of range [0, 10)", error);
}

TEST_CASE("flip mirrors every image left to right or upside down, labels kept") {
    const auto plain = testing::build<fashion_mnist_dataset>("{split: test, limit: 3}").get(range(0, 3));
    const auto across =
        testing::build<fashion_mnist_dataset>("{split: test, limit: 3, flip: horizontal}").get(range(0, 3));
    const auto down = testing::build<fashion_mnist_dataset>("{split: test, limit: 3, flip: vertical}").get(range(0, 3));
    const auto p = plain.x.to_vector(), a = across.x.to_vector(), d = down.x.to_vector();
    for (std::int64_t i = 0; i < 3; ++i)
        for (std::int64_t y = 0; y < 28; ++y)
            for (std::int64_t x = 0; x < 28; ++x) {
                const auto at = [i](std::int64_t row, std::int64_t col) {
                    return static_cast<std::size_t>(i * 784 + row * 28 + col);
                };
                REQUIRE(a[at(y, x)] == p[at(y, 27 - x)]);
                REQUIRE(d[at(y, x)] == p[at(27 - y, x)]);
            }
    CHECK(across.labels.to_vector() == plain.labels.to_vector());
    CHECK(p != d);  // garments are not symmetric upside down
}

TEST_CASE("files in IDX format are read exactly and corrupt ones give clear errors") {
    temp_dir dir("files");
    const fs::path images = dir.path / "train-images-idx3-ubyte.gz", labels = dir.path / "train-labels-idx1-ubyte.gz";
    const std::string images_name = images.string(), labels_name = labels.string();

    CHECK_THROWS_WITH_AS(
        from_dir(dir.path),
        (images_name + ": error: missing Fashion-MNIST file; install Debian package dataset-fashion-mnist "
                       "(tools/setup installs it), or set `directory`")
            .c_str(),
        config_error);

    // Three valid examples: values are bytes / 127.5 - 1 and labels as written.
    const auto bytes = idx_images(0x00000803, 3, 3);
    write_gz(images, bytes);
    write_gz(labels, idx_labels({4, 9, 4}));
    const auto data = from_dir(dir.path);
    CHECK(data.size() == 3);
    const auto batch = data.get({0, 1, 2});
    CHECK(batch.labels.to_vector() == std::vector<float>{4, 9, 4});
    const auto x = batch.x.to_vector();
    bool exact = true;
    for (std::size_t i = 0; i < x.size(); ++i) exact = exact && x[i] == static_cast<float>(bytes[16 + i] / 127.5 - 1);
    CHECK(exact);

    // Wrong magic number.
    write_gz(images, idx_images(0x00000801, 3, 3));
    CHECK(message_of(dir.path) == images_name +
                                      ": error: not an IDX image file: magic number 0x00000801, expected 0x00000803 "
                                      "(unsigned bytes, 3 dimensions)");
    // A header that promises more images than the file holds.
    write_gz(images, idx_images(0x00000803, 10, 3));
    write_gz(labels, idx_labels(std::vector<std::uint8_t>(10, 1)));
    CHECK(message_of(dir.path) ==
          images_name +
              ": error: file ends after 2352 of the 7840 bytes of image data (the header promises 10 images of 28x28)");
    // A .gz cut in half.
    write_gz(images, idx_images(0x00000803, 10, 10));
    fs::resize_file(images, fs::file_size(images) / 2);
    CHECK(message_of(dir.path) == images_name +
                                      ": error: the compressed data ends early (truncated .gz file) while reading "
                                      "image data (the header promises 10 images of 28x28); reinstall "
                                      "dataset-fashion-mnist or replace the file");
    // Counts that disagree, and a label out of range.
    write_gz(images, idx_images(0x00000803, 3, 3));
    CHECK(message_of(dir.path) == labels_name + ": error: holds 10 labels but " + images_name + " holds 3 images");
    write_gz(labels, idx_labels({1, 12, 3}));
    CHECK(message_of(dir.path) == labels_name + ": error: label 12 of example 1 is not a class 0..9");
}
