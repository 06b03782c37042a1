// SPDX-License-Identifier: Apache-2.0
// PNG files through libpng's simplified API, image <-> tensor conversions, grids and resizing.
#include <difflab/base/error.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/image_io.h>
#include <fmt/format.h>
#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>

namespace difflab {

namespace fs = std::filesystem;

namespace {

/// Frees a png_image's reader or writer on every path out of a function. The simplified API
/// keeps libpng's setjmp/longjmp inside libpng (it reports failures through the return value
/// and `message`), so no longjmp ever crosses a C++ frame here.
struct png_image_guard {
    png_image* image;
    ~png_image_guard() { png_image_free(image); }
};

std::size_t checked_size(std::int64_t width, std::int64_t height, std::int64_t channels) {
    return static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(channels);
}

void check_image(const image& img, const std::string& what) {
    if (img.channels != 1 && img.channels != 3)
        throw error(source_mark{what}, fmt::format("an image has 1 (gray) or 3 (RGB) channels, not {}", img.channels));
    if (img.width <= 0 || img.height <= 0)
        throw error(source_mark{what}, fmt::format("image size {}x{} is empty", img.width, img.height));
    if (img.pixels.size() != checked_size(img.width, img.height, img.channels))
        throw error(source_mark{what},
                    fmt::format("a {}x{} image with {} channels needs {} bytes but holds {}", img.width, img.height,
                                img.channels, checked_size(img.width, img.height, img.channels), img.pixels.size()));
}

/// Maps [low, high] to 0..255 with torchvision's rounding; NaN goes to 0.
std::uint8_t to_byte(float value, float low, float scale) {
    const float u = (value - low) * scale;
    if (!(u > 0)) return 0;
    if (u >= 255) return 255;
    return static_cast<std::uint8_t>(std::floor(u + 0.5f));
}

void check_range(float low, float high) {
    if (!(high > low) || !std::isfinite(low) || !std::isfinite(high))
        throw error(source_mark{"image"}, fmt::format("value range [{}, {}] is empty; give low < high", low, high));
}

/// Weights of the antialiased bilinear (triangle) filter for one axis: for each output
/// position its first input index and the normalized weights of the inputs it reads.
struct filter_taps {
    std::vector<std::int64_t> first;
    std::vector<std::vector<double>> weights;
};

filter_taps triangle_taps(std::int64_t in, std::int64_t out) {
    const double scale = static_cast<double>(in) / static_cast<double>(out);
    const double width = std::max(scale, 1.0);  // shrinking widens the filter: antialiasing
    filter_taps taps;
    for (std::int64_t o = 0; o < out; ++o) {
        const double center = (static_cast<double>(o) + 0.5) * scale;
        const std::int64_t lo = std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(center - width + 0.5)));
        const std::int64_t hi = std::min<std::int64_t>(in, static_cast<std::int64_t>(std::floor(center + width + 0.5)));
        std::vector<double> w;
        double total = 0;
        for (std::int64_t i = lo; i < hi; ++i) {
            const double t = std::max(0.0, 1.0 - std::abs((static_cast<double>(i) + 0.5 - center) / width));
            w.push_back(t);
            total += t;
        }
        for (double& v : w) v = total > 0 ? v / total : 1.0 / static_cast<double>(w.size());
        taps.first.push_back(lo);
        taps.weights.push_back(std::move(w));
    }
    return taps;
}

}  // namespace

image decode_png(const std::string& bytes, const std::string& name) {
    if (bytes.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(bytes.data()), 0, 8) != 0)
        throw error(source_mark{name}, "not a PNG file (it does not start with the PNG signature)");
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png_image_guard guard{&png};
    if (!png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()))
        throw error(source_mark{name}, fmt::format("corrupt or truncated PNG: {}", png.message));
    // A 16-bit file without gAMA/sRGB holds sRGB values, as every common writer means them;
    // libpng would otherwise take them as linear and gamma-encode them on the way to 8 bits.
    png.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    const bool color = (png.format & PNG_FORMAT_FLAG_COLOR) != 0;
    const bool alpha = (png.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    // Reading the alpha channel and dropping it ourselves keeps the stored colors: asking libpng
    // for a format without alpha would composite them onto a background instead.
    png.format = (color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY) | (alpha ? PNG_FORMAT_FLAG_ALPHA : 0);
    const std::int64_t channels = color ? 3 : 1, stored = channels + (alpha ? 1 : 0);
    const std::int64_t width = png.width, height = png.height;
    // A corrupt header can claim any size; refuse before allocating rather than die of bad_alloc.
    if (checked_size(width, height, stored) > (std::size_t{1} << 31))
        throw error(source_mark{name},
                    fmt::format("PNG image of {}x{} pixels is too large (over 2 GiB)", width, height));
    std::vector<std::uint8_t> buffer(checked_size(width, height, stored));
    if (!png_image_finish_read(&png, nullptr, buffer.data(), 0, nullptr))
        throw error(source_mark{name}, fmt::format("corrupt or truncated PNG: {}", png.message));
    image out{width, height, channels, {}};
    if (!alpha) {
        out.pixels = std::move(buffer);
        return out;
    }
    out.pixels.resize(checked_size(width, height, channels));
    const std::size_t pixels = checked_size(width, height, 1);
    for (std::size_t p = 0; p < pixels; ++p)
        for (std::int64_t c = 0; c < channels; ++c)
            out.pixels[p * static_cast<std::size_t>(channels) + static_cast<std::size_t>(c)] =
                buffer[p * static_cast<std::size_t>(stored) + static_cast<std::size_t>(c)];
    return out;
}

image read_png(const fs::path& path) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw error(source_mark{path.string()}, "cannot read PNG file: it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        throw error(source_mark{path.string()}, fmt::format("cannot open PNG file: {}", std::strerror(err)));
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw error(source_mark{path.string()}, "cannot read PNG file: read failed");
    return decode_png(bytes, path.string());
}

std::string encode_png(const image& img) {
    check_image(img, "PNG");
    if (img.width > std::numeric_limits<png_int_32>::max() / 4 || img.height > std::numeric_limits<png_int_32>::max())
        throw error(source_mark{"PNG"}, fmt::format("image size {}x{} is too large", img.width, img.height));
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = static_cast<png_uint_32>(img.width);
    png.height = static_cast<png_uint_32>(img.height);
    png.format = img.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png_image_guard guard{&png};
    const auto stride = static_cast<png_int_32>(img.width * img.channels);
    png_alloc_size_t size = 0;
    // The first call measures, the second writes.
    if (!png_image_write_to_memory(&png, nullptr, &size, 0, img.pixels.data(), stride, nullptr))
        throw error(source_mark{"PNG"}, fmt::format("cannot encode image: {}", png.message));
    std::string bytes(size, '\0');
    if (!png_image_write_to_memory(&png, bytes.data(), &size, 0, img.pixels.data(), stride, nullptr))
        throw error(source_mark{"PNG"}, fmt::format("cannot encode image: {}", png.message));
    bytes.resize(size);
    return bytes;
}

void write_png(const fs::path& path, const image& img) {
    check_image(img, path.string());
    write_file_atomically(path, encode_png(img));
}

std::string encode_indexed_png(const indexed_image& img) {
    const std::size_t entries = img.palette.size() / 3;
    if (img.palette.size() % 3 != 0 || entries < 1 || entries > 256)
        throw error(source_mark{"PNG"},
                    fmt::format("a palette holds 1 to 256 RGB triples, got {} bytes", img.palette.size()));
    if (img.width <= 0 || img.height <= 0 || img.width > std::numeric_limits<png_int_32>::max() ||
        img.height > std::numeric_limits<png_int_32>::max() ||
        img.indices.size() != checked_size(img.width, img.height, 1))
        throw error(source_mark{"PNG"}, fmt::format("an indexed {}x{} image needs as many indices, holds {}", img.width,
                                                    img.height, img.indices.size()));
    const auto largest = *std::max_element(img.indices.begin(), img.indices.end());
    if (largest >= entries)
        throw error(source_mark{"PNG"},
                    fmt::format("index {} has no palette entry (the palette has {})", largest, entries));
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = static_cast<png_uint_32>(img.width);
    png.height = static_cast<png_uint_32>(img.height);
    png.format = PNG_FORMAT_RGB_COLORMAP;
    png.colormap_entries = static_cast<png_uint_32>(entries);
    png_image_guard guard{&png};
    const auto stride = static_cast<png_int_32>(img.width);
    png_alloc_size_t size = 0;
    // The first call measures, the second writes.
    if (!png_image_write_to_memory(&png, nullptr, &size, 0, img.indices.data(), stride, img.palette.data()))
        throw error(source_mark{"PNG"}, fmt::format("cannot encode indexed image: {}", png.message));
    std::string bytes(size, '\0');
    if (!png_image_write_to_memory(&png, bytes.data(), &size, 0, img.indices.data(), stride, img.palette.data()))
        throw error(source_mark{"PNG"}, fmt::format("cannot encode indexed image: {}", png.message));
    bytes.resize(size);
    return bytes;
}

void write_indexed_png(const fs::path& path, const indexed_image& img) {
    write_file_atomically(path, encode_indexed_png(img));
}

image to_image(const tensor& chw, float low, float high) {
    check_range(low, high);
    if (!chw.defined() || chw.dim() != 3 || (chw.size(0) != 1 && chw.size(0) != 3))
        throw error(source_mark{"image"}, fmt::format("an image tensor is [C, H, W] with C 1 or 3, not {}",
                                                      chw.defined() ? shape_text(chw.shape()) : "undefined"));
    const std::int64_t c = chw.size(0), h = chw.size(1), w = chw.size(2);
    const std::vector<float> values = chw.to_vector();
    const float scale = 255.0f / (high - low);
    image out{w, h, c, std::vector<std::uint8_t>(checked_size(w, h, c))};
    for (std::int64_t k = 0; k < c; ++k)
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x)
                out.pixels[static_cast<std::size_t>((y * w + x) * c + k)] =
                    to_byte(values[static_cast<std::size_t>((k * h + y) * w + x)], low, scale);
    return out;
}

tensor from_image(const image& img, float low, float high) {
    check_image(img, "image");
    check_range(low, high);
    float table[256];
    for (int v = 0; v < 256; ++v)
        table[v] = static_cast<float>(static_cast<double>(low) + (static_cast<double>(high) - low) * v / 255.0);
    const std::int64_t c = img.channels, h = img.height, w = img.width;
    tensor out = tensor::empty({c, h, w});
    float* p = out.data<float>();
    for (std::int64_t k = 0; k < c; ++k)
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x)
                p[(k * h + y) * w + x] = table[img.pixels[static_cast<std::size_t>((y * w + x) * c + k)]];
    return out;
}

image image_grid(const tensor& batch, std::int64_t columns, float low, float high, std::int64_t padding) {
    check_range(low, high);
    if (!batch.defined() || batch.dim() != 4 || batch.size(0) < 1 || (batch.size(1) != 1 && batch.size(1) != 3))
        throw error(source_mark{"image grid"}, fmt::format("a grid is made of a batch [N, C, H, W] with N >= 1 and C "
                                                           "1 or 3, not {}",
                                                           batch.defined() ? shape_text(batch.shape()) : "undefined"));
    if (columns < 1) throw error(source_mark{"image grid"}, fmt::format("columns is {}; give at least 1", columns));
    if (padding < 0) throw error(source_mark{"image grid"}, fmt::format("padding is {}; give 0 or more", padding));
    const std::int64_t n = batch.size(0), c = batch.size(1), h = batch.size(2), w = batch.size(3);
    const std::int64_t across = std::min(columns, n), down = (n + across - 1) / across;
    image grid{across * (w + padding) + padding, down * (h + padding) + padding, c, {}};
    grid.pixels.assign(checked_size(grid.width, grid.height, c), 0);
    const std::vector<float> values = batch.to_vector();
    const float scale = 255.0f / (high - low);
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t top = padding + (i / across) * (h + padding), left = padding + (i % across) * (w + padding);
        for (std::int64_t k = 0; k < c; ++k)
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t x = 0; x < w; ++x)
                    grid.pixels[static_cast<std::size_t>(((top + y) * grid.width + left + x) * c + k)] =
                        to_byte(values[static_cast<std::size_t>(((i * c + k) * h + y) * w + x)], low, scale);
    }
    return grid;
}

void write_image_grid(const fs::path& path, const tensor& batch, std::int64_t columns, float low, float high,
                      std::int64_t padding) {
    write_png(path, image_grid(batch, columns, low, high, padding));
}

image convert_channels(const image& img, std::int64_t channels) {
    check_image(img, "image");
    if (channels != 1 && channels != 3)
        throw error(source_mark{"image"}, fmt::format("an image has 1 (gray) or 3 (RGB) channels, not {}", channels));
    if (channels == img.channels) return img;
    const std::size_t pixels = checked_size(img.width, img.height, 1);
    image out{img.width, img.height, channels, std::vector<std::uint8_t>(pixels * static_cast<std::size_t>(channels))};
    for (std::size_t p = 0; p < pixels; ++p) {
        if (channels == 3) {
            std::fill_n(out.pixels.begin() + static_cast<std::ptrdiff_t>(3 * p), 3, img.pixels[p]);
        } else {
            const unsigned r = img.pixels[3 * p], g = img.pixels[3 * p + 1], b = img.pixels[3 * p + 2];
            out.pixels[p] = static_cast<std::uint8_t>((299 * r + 587 * g + 114 * b + 500) / 1000);
        }
    }
    return out;
}

image resize_bilinear(const image& img, std::int64_t width, std::int64_t height) {
    check_image(img, "image");
    if (width < 1 || height < 1)
        throw error(source_mark{"image"}, fmt::format("cannot resize to {}x{}; give a positive size", width, height));
    if (width == img.width && height == img.height) return img;
    const std::int64_t c = img.channels;
    // Rows first into doubles (width changes), then columns (height changes), rounding once.
    const filter_taps across = triangle_taps(img.width, width), down = triangle_taps(img.height, height);
    std::vector<double> rows(checked_size(width, img.height, c), 0.0);
    for (std::int64_t y = 0; y < img.height; ++y)
        for (std::int64_t x = 0; x < width; ++x) {
            const auto& w = across.weights[static_cast<std::size_t>(x)];
            const std::int64_t first = across.first[static_cast<std::size_t>(x)];
            for (std::int64_t k = 0; k < c; ++k) {
                double sum = 0;
                for (std::size_t t = 0; t < w.size(); ++t)
                    sum += w[t] * img.pixels[static_cast<std::size_t>(
                                      (y * img.width + first + static_cast<std::int64_t>(t)) * c + k)];
                rows[static_cast<std::size_t>((y * width + x) * c + k)] = sum;
            }
        }
    image out{width, height, c, std::vector<std::uint8_t>(checked_size(width, height, c))};
    for (std::int64_t y = 0; y < height; ++y) {
        const auto& w = down.weights[static_cast<std::size_t>(y)];
        const std::int64_t first = down.first[static_cast<std::size_t>(y)];
        for (std::int64_t x = 0; x < width; ++x)
            for (std::int64_t k = 0; k < c; ++k) {
                double sum = 0;
                for (std::size_t t = 0; t < w.size(); ++t)
                    sum += w[t] *
                           rows[static_cast<std::size_t>(((first + static_cast<std::int64_t>(t)) * width + x) * c + k)];
                out.pixels[static_cast<std::size_t>((y * width + x) * c + k)] =
                    static_cast<std::uint8_t>(std::clamp(std::floor(sum + 0.5), 0.0, 255.0));
            }
    }
    return out;
}

}  // namespace difflab
