// SPDX-License-Identifier: Apache-2.0
// Tests of the 'image_folder' dataset on PNG files written with write_png.
#include "image_folder_dataset.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace difflab;
using difflab::plugins::image_folder_dataset;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under the system's temporary directory, removed at the end of the test.
struct temp_dir {
    fs::path path;
    explicit temp_dir(const std::string& name)
        : path(fs::temp_directory_path() / ("difflab_image_folder_" + std::to_string(::getpid()) + "_" + name)) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
};

/// A width x height image of one color.
image solid(std::int64_t width, std::int64_t height, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    image img{width, height, 3, {}};
    for (std::int64_t p = 0; p < width * height; ++p) img.pixels.insert(img.pixels.end(), {r, g, b});
    return img;
}

image_folder_dataset from_dir(const fs::path& dir, const std::string& extra = "") {
    return testing::build<image_folder_dataset>("{directory: '" + dir.string() + "'" + extra + "}");
}

float scaled(int byte) {
    return static_cast<float>(byte / 127.5 - 1);
}

}  // namespace

TEST_CASE("class subfolders give labels in sorted order and files are read in sorted order") {
    temp_dir dir("classes");
    fs::create_directories(dir.path / "cats" / "deep");
    fs::create_directories(dir.path / "birds");
    fs::create_directories(dir.path / ".hidden");
    write_png(dir.path / "cats" / "b.png", solid(4, 4, 10, 20, 30));
    write_png(dir.path / "cats" / "deep" / "a.png", solid(4, 4, 40, 50, 60));
    write_png(dir.path / "birds" / "z.PNG", solid(4, 4, 70, 80, 90));
    write_png(dir.path / ".hidden" / "skip.png", solid(8, 8, 0, 0, 0));
    std::ofstream(dir.path / "cats" / "notes.txt") << "not an image";
    const auto data = from_dir(dir.path);
    CHECK(data.class_names() == std::vector<std::string>{"birds", "cats"});
    CHECK(data.size() == 3);
    CHECK(data.example_shape() == shape_t{3, 4, 4});
    const auto batch = data.get({0, 1, 2});
    // Sorted paths: birds/z.PNG, cats/b.png, cats/deep/a.png.
    CHECK(batch.labels.to_vector() == std::vector<float>{0, 1, 1});
    const auto x = batch.x.to_vector();
    CHECK(x[0] == scaled(70));
    CHECK(x[16] == scaled(80));  // channel planes: [C, H, W]
    CHECK(x[48] == scaled(10));
    CHECK(x[96 + 32] == scaled(60));
}

TEST_CASE("a flat folder converts channels, resizes, crops and limits") {
    temp_dir dir("flat");
    write_png(dir.path / "1.png", solid(6, 3, 255, 0, 0));
    write_png(dir.path / "2.png", image{2, 2, 1, {0, 255, 255, 0}});
    CHECK_THROWS_WITH_AS(from_dir(dir.path),
                         ((dir.path / "2.png").string() + ": error: image is 2x2 but " + (dir.path / "1.png").string() +
                          " is 6x3; set `size` to resize every image to size x size")
                             .c_str(),
                         config_error);
    const auto gray = from_dir(dir.path, ", channels: 1, size: 2");
    CHECK(gray.class_names().empty());
    CHECK(gray.example_shape() == shape_t{1, 2, 2});
    const auto batch = gray.get({0, 1});
    CHECK(batch.labels.to_vector() == std::vector<float>{0, 0});
    const auto x = batch.x.to_vector();
    // Red becomes luma 76 everywhere (6x3 -> 4x2 -> center 2x2); the 2x2 image is kept as is.
    CHECK(x == std::vector<float>{scaled(76), scaled(76), scaled(76), scaled(76), scaled(0), scaled(255), scaled(255),
                                  scaled(0)});
    const auto color = from_dir(dir.path, ", size: 2, limit: 1");
    CHECK(color.size() == 1);
    CHECK(color.get({0}).x.to_vector() == std::vector<float>{1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1});
}

TEST_CASE("folder mistakes are configuration errors naming the path") {
    temp_dir dir("mistakes");
    CHECK_THROWS_WITH_AS(
        from_dir(dir.path / "absent"),
        ((dir.path / "absent").string() + ": error: no such directory; set `directory` to a folder of PNG files")
            .c_str(),
        config_error);
    CHECK_THROWS_WITH_AS(from_dir(dir.path),
                         (dir.path.string() + ": error: no PNG files in the folder or its subfolders").c_str(),
                         config_error);
    fs::create_directories(dir.path / "a");
    write_png(dir.path / "a" / "x.png", solid(2, 2, 1, 2, 3));
    write_png(dir.path / "loose.png", solid(2, 2, 1, 2, 3));
    CHECK_THROWS_WITH_AS(from_dir(dir.path),
                         ((dir.path / "loose.png").string() +
                          ": error: PNG file beside class subfolders; put every image in a class subfolder (labels "
                          "come from the subfolders) or all of them directly in the folder")
                             .c_str(),
                         config_error);
    fs::remove(dir.path / "loose.png");
    std::ofstream(dir.path / "a" / "broken.png") << "text";
    CHECK_THROWS_WITH_AS(from_dir(dir.path),
                         ((dir.path / "a" / "broken.png").string() +
                          ": error: not a PNG file (it does not start with the PNG signature)")
                             .c_str(),
                         error);
    CHECK_THROWS_AS(from_dir(dir.path, ", channels: 2"), config_error);
}
