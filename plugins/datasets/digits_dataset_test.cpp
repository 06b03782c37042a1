// SPDX-License-Identifier: Apache-2.0
// The digits dataset: the installed file's known size, classes and pixels; resizing; damaged files.
#include "digits_dataset.h"

#include <difflab/base/error.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;
namespace fs = std::filesystem;

namespace {

/// A scratch file with `text`, removed at the end of the test.
struct scratch_file {
    fs::path path;
    explicit scratch_file(const std::string& text)
        : path(fs::temp_directory_path() / ("difflab_digits_" + std::to_string(::getpid()) + ".csv")) {
        std::ofstream(path) << text;
    }
    ~scratch_file() { fs::remove(path); }
};

std::string error_of(const std::string& yaml) {
    try {
        testing::build<digits_dataset>(yaml);
    } catch (const std::exception& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("the installed digits have scikit-learn's 1797 images, class counts and first pixels") {
    const auto digits = testing::build<digits_dataset>("{size: 8}");
    REQUIRE(digits.size() == 1797);
    CHECK(digits.example_shape() == shape_t{1, 8, 8});
    std::vector<std::int64_t> all(1797);
    for (std::int64_t i = 0; i < 1797; ++i) all[static_cast<std::size_t>(i)] = i;
    const example_batch batch = digits.get(all);
    std::vector<int> counts(10, 0);
    for (float l : batch.labels.to_vector()) ++counts[static_cast<std::size_t>(l)];
    CHECK(counts == std::vector<int>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180});
    // digits.images[0] of scikit-learn's documentation: a zero; values v in 0..16 read as
    // round(v * 255 / 16) / 255 * 2 - 1.
    const int first[16] = {0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0};
    const std::vector<float> x = batch.x.to_vector();
    for (int i = 0; i < 16; ++i) {
        CAPTURE(i);
        CHECK(x[static_cast<std::size_t>(i)] ==
              doctest::Approx(std::round(first[i] * 255.0 / 16.0) / 255.0 * 2 - 1).epsilon(1e-6));
    }
    CHECK(batch.labels.to_vector()[0] == 0.0f);
    CHECK(batch.labels.to_vector()[1796] == 8.0f);
}

TEST_CASE("digits resize to Fashion-MNIST's 28 x 28 and filter by class") {
    const auto sevens = testing::build<digits_dataset>("{classes: [7], limit: 5}");
    CHECK(sevens.size() == 5);
    CHECK(sevens.example_shape() == shape_t{1, 28, 28});
    for (float l : sevens.get({0, 1, 2, 3, 4}).labels.to_vector()) CHECK(l == 7.0f);
    // A resized image keeps the range and the mean of the 8 x 8 one (bilinear resampling).
    const std::vector<float> small = testing::build<digits_dataset>("{size: 8, limit: 1}").get({0}).x.to_vector();
    const std::vector<float> large = testing::build<digits_dataset>("{limit: 1}").get({0}).x.to_vector();
    double small_mean = 0, large_mean = 0;
    for (float v : small) small_mean += v / 64.0;
    for (float v : large) large_mean += v / 784.0;
    CHECK(large_mean == doctest::Approx(small_mean).epsilon(0.05));
}

TEST_CASE("a damaged digits file is an error at its line, naming the fix") {
    const scratch_file bad_value("0,1,2\n");
    CHECK(error_of("{file: " + bad_value.path.string() + "}").find(":1:1: error: 3 values where a digit has 65") !=
          std::string::npos);
    std::string row;
    for (int i = 0; i < 64; ++i) row += "3,";
    const scratch_file bad_label(row + "4\n" + row + "x\n");
    CHECK(error_of("{file: " + bad_label.path.string() + "}").find(":2:1: error: 'x' is not an integer") !=
          std::string::npos);
    const scratch_file too_bright(row + "4\n" + row.substr(0, row.size() - 2) + "17,4\n");
    CHECK(error_of("{file: " + too_bright.path.string() + "}").find(":2:1: error: pixel value 17 is outside 0..16") !=
          std::string::npos);
    CHECK(error_of("{file: /nonexistent/digits.csv.gz}")
              .find("missing digits file; reinstall Debian package "
                    "python3-sklearn") != std::string::npos);
}
