// SPDX-License-Identifier: Apache-2.0
// The 'image_folder' dataset: scanning, decoding, resizing and center-cropping PNG files.
#include "image_folder_dataset.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <utility>

namespace difflab::plugins {

namespace fs = std::filesystem;

namespace {

bool is_png(const fs::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".png";
}

bool hidden(const fs::path& path) {
    const std::string name = path.filename().string();
    return !name.empty() && name[0] == '.';
}

/// `img` scaled so that its shorter side is `size`, then its centered size x size square.
image resize_and_crop(const image& img, std::int64_t size) {
    const bool wide = img.width >= img.height;
    const std::int64_t shorter = wide ? img.height : img.width, longer = wide ? img.width : img.height;
    // Rounded as torchvision's Resize(int): the longer side keeps the aspect ratio.
    const std::int64_t scaled =
        std::max<std::int64_t>(size, static_cast<std::int64_t>(static_cast<double>(size) * static_cast<double>(longer) /
                                                               static_cast<double>(shorter)));
    const image resized = wide ? resize_bilinear(img, scaled, size) : resize_bilinear(img, size, scaled);
    if (resized.width == size && resized.height == size) return resized;
    // An odd excess leaves the extra pixel at the right or bottom, as guided-diffusion's crop.
    const std::int64_t left = (resized.width - size) / 2, top = (resized.height - size) / 2;
    image out{size, size, img.channels, {}};
    out.pixels.reserve(static_cast<std::size_t>(size * size * img.channels));
    for (std::int64_t y = 0; y < size; ++y) {
        const auto row =
            resized.pixels.begin() + static_cast<std::ptrdiff_t>(((top + y) * resized.width + left) * img.channels);
        out.pixels.insert(out.pixels.end(), row, row + size * img.channels);
    }
    return out;
}

std::pair<image_store, std::vector<std::string>> load(const image_folder_dataset::options& o) {
    const fs::path root(o.directory);
    std::error_code ec;
    if (!fs::is_directory(root, ec))
        throw config_error(source_mark{o.directory}, "no such directory; set `directory` to a folder of PNG files");

    // Every PNG, with the top-level subfolder it lies in ("" for files directly in root).
    std::vector<std::pair<std::string, fs::path>> files;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) throw error(source_mark{o.directory}, fmt::format("cannot list the folder: {}", ec.message()));
    for (; it != end; it.increment(ec)) {
        if (ec) throw error(source_mark{o.directory}, fmt::format("cannot list the folder: {}", ec.message()));
        const fs::path& path = it->path();
        if (hidden(path)) {
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec) || !is_png(path)) continue;
        const fs::path relative = path.lexically_relative(root);
        const std::string top = std::distance(relative.begin(), relative.end()) > 1 ? relative.begin()->string() : "";
        files.emplace_back(top, path);
    }
    if (files.empty()) throw config_error(source_mark{o.directory}, "no PNG files in the folder or its subfolders");
    std::sort(files.begin(), files.end(),
              [](const auto& a, const auto& b) { return a.second.generic_string() < b.second.generic_string(); });

    std::map<std::string, std::int32_t> labels;
    for (const auto& [top, path] : files) labels.emplace(top, 0);
    if (labels.size() > 1 && labels.count("") != 0) {
        const auto loose = std::find_if(files.begin(), files.end(), [](const auto& f) { return f.first.empty(); });
        throw config_error(source_mark{loose->second.string()},
                           "PNG file beside class subfolders; put every image in a class subfolder "
                           "(labels come from the subfolders) or all of them directly in the folder");
    }
    std::vector<std::string> class_names;
    for (auto& [top, label] : labels) {
        label = static_cast<std::int32_t>(class_names.size());
        if (!top.empty()) class_names.push_back(top);
    }

    const std::size_t count = o.limit > 0 ? std::min(files.size(), static_cast<std::size_t>(o.limit)) : files.size();
    image_store store;
    std::string first_path;
    for (std::size_t i = 0; i < count; ++i) {
        const auto& [top, path] = files[i];
        image img = convert_channels(read_png(path), o.channels);
        if (o.size > 0) img = resize_and_crop(img, o.size);
        if (i == 0) {
            store = image_store{o.channels, img.height, img.width, {}, {}};
            store.pixels.reserve(count * static_cast<std::size_t>(store.example_bytes()));
            first_path = path.string();
        } else if (img.width != store.width || img.height != store.height) {
            throw config_error(source_mark{path.string()},
                               fmt::format("image is {}x{} but {} is {}x{}; set `size` to resize every "
                                           "image to size x size",
                                           img.width, img.height, first_path, store.width, store.height));
        }
        // Interleaved pixels to planes.
        const std::int64_t pixels = img.width * img.height;
        for (std::int64_t c = 0; c < o.channels; ++c)
            for (std::int64_t p = 0; p < pixels; ++p)
                store.pixels.push_back(img.pixels[static_cast<std::size_t>(p * o.channels + c)]);
        store.labels.push_back(labels.at(top));
    }
    return {std::move(store), std::move(class_names)};
}

}  // namespace

param_spec<image_folder_dataset::options> image_folder_dataset::params() {
    param_spec<options> spec{"PNG images under a folder; labels from class subfolders (torchvision ImageFolder)."};
    spec.require(&options::directory, "directory",
                 "Folder searched recursively for .png files; its subfolders, if any, are the classes.", non_empty());
    spec.add(&options::channels, "channels", "1 (gray) or 3 (RGB): every image is converted to it.",
             constraint<std::int64_t>{"1|3", [](const std::int64_t& c) { return c == 1 || c == 3; }});
    spec.add(&options::size, "size",
             "Resize the shorter side to this (bilinear, antialiased) and center-crop to size x size; 0: keep the "
             "images' own size (all must be equal).",
             closed_range<std::int64_t>(0, 4096));
    spec.add(&options::hflip, "hflip",
             "Add a left-right mirrored copy of every image (indices N..2N-1): random-flip augmentation.");
    spec.add(&options::limit, "limit", "Use only the first N images in sorted path order; 0: all.",
             at_least<std::int64_t>(0));
    return spec;
}

image_folder_dataset::image_folder_dataset(const options& opts, build_context&)
    : image_folder_dataset(opts, load(opts)) {}

image_folder_dataset::image_folder_dataset(const options& opts, std::pair<image_store, std::vector<std::string>> loaded)
    : image_dataset("image_folder", std::move(loaded.first), opts.hflip),
      opts_(opts),
      class_names_(std::move(loaded.second)) {}

}  // namespace difflab::plugins
