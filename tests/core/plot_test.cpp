// SPDX-License-Identifier: Apache-2.0
// Tests of line plots: the CSV always, the PNG through gnuplot.
#include <difflab/io/plot.h>
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("a line plot writes its data as CSV and its picture as PNG") {
    const fs::path dir = fs::temp_directory_path() / "difflab_plot_test";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::vector<difflab::plot_series> series{{"euler, \"fast\"", {5, 10, 20}, {0.4, 0.2, 0.1}},
                                                   {"heun", {5, 10}, {0.1, NAN}}};
    const bool drawn = difflab::write_line_plot(dir / "error", series, {"error vs NFE", "NFE", "error", true, true});
    CHECK(read_all(dir / "error.csv") ==
          "series,x,y\n\"euler, \"\"fast\"\"\",5,0.4\n\"euler, \"\"fast\"\"\",10,0.2\n\"euler, \"\"fast\"\"\",20,0.1\n"
          "heun,5,0.1\nheun,10,nan\n");
    CHECK(drawn == difflab::gnuplot_available());
    if (drawn) {
        const std::string png = read_all(dir / "error.png");
        REQUIRE(png.size() > 1000);
        CHECK(png.substr(0, 8) == "\x89PNG\r\n\x1a\n");
        CHECK_FALSE(fs::exists(dir / "error.png.tmp"));
    }
    fs::remove_all(dir);
}
