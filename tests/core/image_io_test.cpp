// SPDX-License-Identifier: Apache-2.0
// Tests of PNG files, image <-> tensor conversions, sample grids and resizing.
#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;
using namespace difflab;

namespace {

// Tiny PNGs written by hand (python3: zlib + struct, no imaging library), so that reading is
// checked against files difflab did not write.
// 2x2 RGB, 8-bit: red, green / blue, (10, 20, 30).
const unsigned char rgb_2x2[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x13, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xc0, 0x00, 0xc2, 0x0c, 0xff, 0xb9, 0x44, 0xe4, 0x00, 0x1a,
    0x58, 0x03, 0x3a, 0x56, 0x63, 0xa2, 0x3c, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
// 3x1 gray, 16-bit, no gAMA chunk: 0x0000, 0x8080, 0xffff.
const unsigned char gray16_3x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x6e, 0x1b, 0x97, 0x2b, 0x00, 0x00, 0x00,
    0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60, 0x68, 0x68, 0xf8, 0xff, 0x1f, 0x00, 0x06, 0x84,
    0x02, 0xff, 0x46, 0x60, 0xde, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
// 2x1 palette [(1, 2, 3), (200, 100, 50)] with tRNS (entry 1 transparent), pixels 1, 0.
const unsigned char palette_2x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x03, 0x00, 0x00, 0x00, 0xc3, 0xfc, 0x8f, 0xb8, 0x00,
    0x00, 0x00, 0x06, 0x50, 0x4c, 0x54, 0x45, 0x01, 0x02, 0x03, 0xc8, 0x64, 0x32, 0x50, 0xb4, 0xae, 0x3f,
    0x00, 0x00, 0x00, 0x02, 0x74, 0x52, 0x4e, 0x53, 0xff, 0x00, 0xe5, 0xb7, 0x30, 0x4a, 0x00, 0x00, 0x00,
    0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x64, 0x00, 0x00, 0x00, 0x05, 0x00, 0x02, 0xd1,
    0x66, 0x33, 0x78, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
// 2x1 RGBA: (10, 20, 30, alpha 0), (40, 50, 60, alpha 128).
const unsigned char rgba_2x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0xf4, 0x22, 0x7f, 0x8a, 0x00, 0x00, 0x00, 0x11, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xe0, 0x12, 0x91, 0x63, 0xd0, 0x30, 0xb2, 0x69, 0x00, 0x00, 0x03, 0xc7, 0x01,
    0x53, 0xce, 0xe3, 0xb4, 0x45, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
// 1x1 gray + alpha: (77, alpha 0).
const unsigned char gray_alpha_1x1[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x04, 0x00, 0x00, 0x00, 0xb5, 0x1c, 0x0c, 0x02, 0x00,
    0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf0, 0x65, 0x00, 0x00, 0x00, 0x9d, 0x00,
    0x4e, 0xd4, 0xfb, 0x68, 0xce, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

template <std::size_t N>
std::string bytes_of(const unsigned char (&data)[N]) {
    return std::string(reinterpret_cast<const char*>(data), N);
}

/// A fresh directory under the system's temporary directory, removed at the end of the test.
struct temp_dir {
    fs::path path;
    explicit temp_dir(const std::string& name)
        : path(fs::temp_directory_path() / ("difflab_image_io_" + std::to_string(::getpid()) + "_" + name)) {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() { fs::remove_all(path); }
};

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::uint8_t> px(std::initializer_list<int> values) {
    std::vector<std::uint8_t> out;
    for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
    return out;
}

}  // namespace

TEST_CASE("gray and RGB images survive a write and a read exactly") {
    temp_dir dir("round_trip");
    image gray{5, 3, 1, {}}, rgb{4, 2, 3, {}};
    for (int i = 0; i < 15; ++i) gray.pixels.push_back(static_cast<std::uint8_t>(i * 17));
    for (int i = 0; i < 24; ++i) rgb.pixels.push_back(static_cast<std::uint8_t>(255 - i * 11));
    write_png(dir.path / "gray.png", gray);
    write_png(dir.path / "rgb.png", rgb);
    CHECK_FALSE(fs::exists(dir.path / "gray.png.tmp"));
    const image g = read_png(dir.path / "gray.png"), c = read_png(dir.path / "rgb.png");
    CHECK(g.width == 5);
    CHECK(g.height == 3);
    CHECK(g.channels == 1);
    CHECK(g.pixels == gray.pixels);
    CHECK(c.width == 4);
    CHECK(c.height == 2);
    CHECK(c.channels == 3);
    CHECK(c.pixels == rgb.pixels);
    CHECK(read_bytes(dir.path / "rgb.png").substr(0, 8) == "\x89PNG\r\n\x1a\n");
}

TEST_CASE("an indexed image is written as a palette PNG whose pixels read as their entries' colors") {
    temp_dir dir("indexed");
    // 3x2 label map over a palette of three distinct colors.
    const indexed_image labels{3, 2, {0, 1, 2, 2, 1, 0}, {0, 0, 0, 31, 119, 180, 255, 127, 14}};
    write_indexed_png(dir.path / "labels.png", labels);
    const std::string bytes = read_bytes(dir.path / "labels.png");
    CHECK(static_cast<int>(static_cast<unsigned char>(bytes.at(25))) == 3);  // IHDR color type: palette
    const std::size_t plte = bytes.find("PLTE");
    REQUIRE(plte != std::string::npos);
    CHECK(bytes.substr(plte - 4, 4) == std::string("\0\0\0\x09", 4));  // 3 entries of 3 bytes
    CHECK(bytes.substr(plte + 4, 9) == std::string(labels.palette.begin(), labels.palette.end()));
    const image colors = read_png(dir.path / "labels.png");
    REQUIRE(colors.channels == 3);
    REQUIRE(colors.pixels.size() == 18);
    for (std::size_t p = 0; p < 6; ++p)
        for (std::size_t c = 0; c < 3; ++c)
            CHECK(colors.pixels[p * 3 + c] == labels.palette[labels.indices[p] * 3 + c]);

    indexed_image beyond = labels;
    beyond.indices[4] = 3;
    CHECK_THROWS_WITH_AS(encode_indexed_png(beyond), doctest::Contains("index 3 has no palette entry"), error);
    indexed_image ragged = labels;
    ragged.palette.pop_back();
    CHECK_THROWS_WITH_AS(encode_indexed_png(ragged), doctest::Contains("1 to 256 RGB triples"), error);
    indexed_image short_rows = labels;
    short_rows.indices.pop_back();
    CHECK_THROWS_WITH_AS(encode_indexed_png(short_rows), doctest::Contains("needs as many indices"), error);
}

TEST_CASE("PNGs written by another tool read as 8-bit gray or RGB") {
    const image rgb = decode_png(bytes_of(rgb_2x2), "rgb.png");
    CHECK(rgb.width == 2);
    CHECK(rgb.height == 2);
    CHECK(rgb.channels == 3);
    CHECK(rgb.pixels == px({255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30}));
    // 16-bit values scale to 8 bits as v / 257 (no gamma change for a file without gAMA).
    const image gray16 = decode_png(bytes_of(gray16_3x1), "gray16.png");
    CHECK(gray16.channels == 1);
    CHECK(gray16.pixels == px({0, 128, 255}));
    // Palettes expand to RGB; alpha (here from tRNS) is dropped, the stored colors kept.
    const image palette = decode_png(bytes_of(palette_2x1), "palette.png");
    CHECK(palette.channels == 3);
    CHECK(palette.pixels == px({200, 100, 50, 1, 2, 3}));
    const image rgba = decode_png(bytes_of(rgba_2x1), "rgba.png");
    CHECK(rgba.channels == 3);
    CHECK(rgba.pixels == px({10, 20, 30, 40, 50, 60}));
    const image gray_alpha = decode_png(bytes_of(gray_alpha_1x1), "ga.png");
    CHECK(gray_alpha.channels == 1);
    CHECK(gray_alpha.pixels == px({77}));
}

TEST_CASE("missing, non-PNG and truncated files give one-line errors") {
    temp_dir dir("errors");
    const fs::path missing = dir.path / "missing.png", text = dir.path / "notes.png", half = dir.path / "half.png";
    write_bytes(text, "just some text, not an image\n");
    const std::string whole = bytes_of(rgb_2x2);
    write_bytes(half, whole.substr(0, whole.size() / 2));
    CHECK_THROWS_WITH_AS(read_png(missing),
                         (missing.string() + ": error: cannot open PNG file: No such file or directory").c_str(),
                         error);
    CHECK_THROWS_WITH_AS(read_png(text),
                         (text.string() + ": error: not a PNG file (it does not start with the PNG signature)").c_str(),
                         error);
    CHECK_THROWS_WITH_AS(read_png(dir.path),
                         (dir.path.string() + ": error: cannot read PNG file: it is a directory").c_str(), error);
    std::string message;
    try {
        read_png(half);
    } catch (const error& e) {
        message = e.what();
    }
    INFO(message);
    CHECK(message.rfind(half.string() + ": error: corrupt or truncated PNG: ", 0) == 0);
    CHECK(message.find('\n') == std::string::npos);
    // A CRC error in the image data is caught too.
    std::string corrupt = whole;
    corrupt[corrupt.size() - 20] ^= 0x55;
    CHECK_THROWS_AS(decode_png(corrupt, "corrupt.png"), error);
    CHECK_THROWS_WITH_AS(
        write_png(dir.path / "bad.png", image{2, 2, 3, px({1, 2, 3})}),
        (dir.path.string() + "/bad.png: error: a 2x2 image with 3 channels needs 12 bytes but holds 3").c_str(), error);
    CHECK_FALSE(fs::exists(dir.path / "bad.png"));
}

TEST_CASE("tensors map to bytes with clamping and rounding, and back") {
    const tensor t = tensor::from_vector({1, 1, 6}, {-1.0f, 1.0f, 0.0f, -3.0f, 7.0f, -0.5f});
    const image img = to_image(t);
    // 0 -> 127.5 -> 128 (round half up, as torchvision); -0.5 -> 63.75 -> 64.
    CHECK(img.pixels == px({0, 255, 128, 0, 255, 64}));
    const image rgb = to_image(tensor::from_vector({3, 1, 2}, {0, 1, 0.25f, 0.5f, 1, 0}), 0, 1);
    CHECK(rgb.channels == 3);
    CHECK(rgb.pixels == px({0, 64, 255, 255, 128, 0}));  // interleaved from planes
    const tensor back = from_image(rgb, 0, 1);
    CHECK(back.shape() == shape_t{3, 1, 2});
    CHECK(back.to_vector() == std::vector<float>{0, 1, 64 / 255.0f, 128 / 255.0f, 1, 0});
    // Every byte survives from_image then to_image.
    image all{256, 1, 1, {}};
    for (int v = 0; v < 256; ++v) all.pixels.push_back(static_cast<std::uint8_t>(v));
    CHECK(to_image(from_image(all)).pixels == all.pixels);
    CHECK_THROWS_AS(to_image(tensor::zeros({2, 4, 4})), error);
    CHECK_THROWS_AS(to_image(tensor::zeros({1, 4, 4}), 1, 1), error);
}

TEST_CASE("a grid places tiles as torchvision make_grid does") {
    // 5 tiles of 1x2x3 (C, H, W) in 3 columns: 2 rows, padding 2 -> (2 * 4 + 2) x (3 * 5 + 2).
    const std::int64_t n = 5, h = 2, w = 3;
    std::vector<float> values;
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t p = 0; p < h * w; ++p) values.push_back(static_cast<float>(10 * (i + 1) + p));
    const image grid = image_grid(tensor::from_vector({n, 1, h, w}, values), 3, 0, 255, 2);
    CHECK(grid.width == 17);
    CHECK(grid.height == 10);
    CHECK(grid.channels == 1);
    auto at = [&](std::int64_t y, std::int64_t x) { return grid.pixels[static_cast<std::size_t>(y * grid.width + x)]; };
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t top = 2 + (i / 3) * (h + 2), left = 2 + (i % 3) * (w + 2);
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x) CHECK(at(top + y, left + x) == 10 * (i + 1) + y * w + x);
    }
    // Padding and the empty sixth cell are black.
    int nonzero = 0;
    for (std::uint8_t v : grid.pixels) nonzero += v != 0;
    CHECK(nonzero == n * h * w);
    CHECK(at(0, 0) == 0);
    CHECK(at(4, 5) == 0);   // between tiles 0 and 1, first tile row... padding column
    CHECK(at(7, 14) == 0);  // where tile 5 would be
    // Written as a file: an RGB grid of 2 tiles in one row.
    temp_dir dir("grid");
    write_image_grid(dir.path / "grid.png", tensor::full({2, 3, 4, 4}, 1.0f), 8);
    const image file = read_png(dir.path / "grid.png");
    CHECK(file.width == 2 * (4 + 2) + 2);
    CHECK(file.height == 4 + 4);
    CHECK(file.channels == 3);
    CHECK(file.pixels[static_cast<std::size_t>((2 * file.width + 2) * 3)] == 255);
    CHECK(file.pixels[static_cast<std::size_t>((1 * file.width + 2) * 3)] == 0);
}

TEST_CASE("channel conversion and bilinear resizing") {
    const image rgb{2, 1, 3, px({255, 0, 0, 10, 200, 30})};
    CHECK(convert_channels(rgb, 1).pixels == px({76, 124}));  // (299*255 + 500) / 1000; 601 luma
    CHECK(convert_channels(image{1, 1, 1, px({9})}, 3).pixels == px({9, 9, 9}));
    // Doubling 2 pixels: centers at 0.25, 0.75, 1.25, 1.75 in input units (half-pixel convention).
    const image up = resize_bilinear(image{2, 1, 1, px({0, 200})}, 4, 1);
    CHECK(up.pixels == px({0, 50, 150, 200}));
    // Halving averages pairs (the antialiasing filter spans two input pixels each side).
    const image down = resize_bilinear(image{4, 1, 1, px({0, 100, 200, 40})}, 2, 1);
    // Output 0: center 1.0, width 2: weights of pixels 0, 1, 2 are 0.75, 0.75, 0.25 (normalized).
    CHECK(down.pixels[0] == static_cast<std::uint8_t>((0 * 0.75 + 100 * 0.75 + 200 * 0.25) / 1.75 + 0.5));
    CHECK(down.pixels[1] == static_cast<std::uint8_t>((100 * 0.25 + 200 * 0.75 + 40 * 0.75) / 1.75 + 0.5));
    // A constant image stays constant at any size.
    const image flat = resize_bilinear(image{7, 5, 3, std::vector<std::uint8_t>(105, 77)}, 3, 11);
    CHECK(flat.width == 3);
    CHECK(flat.height == 11);
    CHECK(flat.pixels == std::vector<std::uint8_t>(99, 77));
}
