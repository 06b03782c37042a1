// SPDX-License-Identifier: Apache-2.0
// Image datasets in memory: filters, flips and the conversion to [-1, 1].
#include "image_dataset.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace difflab::plugins {

void keep_examples(image_store& images, const std::vector<std::int64_t>& classes, std::int64_t limit,
                   const std::string& name) {
    const std::int64_t bytes = images.example_bytes();
    std::int64_t kept = 0;
    for (std::int64_t i = 0; i < images.count(); ++i) {
        if (limit > 0 && kept == limit) break;
        const std::int64_t label = images.labels[static_cast<std::size_t>(i)];
        if (!classes.empty() && std::find(classes.begin(), classes.end(), label) == classes.end()) continue;
        if (kept != i) {
            images.labels[static_cast<std::size_t>(kept)] = images.labels[static_cast<std::size_t>(i)];
            std::memmove(images.pixels.data() + kept * bytes, images.pixels.data() + i * bytes,
                         static_cast<std::size_t>(bytes));
        }
        ++kept;
    }
    images.labels.resize(static_cast<std::size_t>(kept));
    images.pixels.resize(static_cast<std::size_t>(kept * bytes));
    images.labels.shrink_to_fit();
    images.pixels.shrink_to_fit();
    if (kept == 0) {
        std::string list;
        for (std::int64_t c : classes) list += (list.empty() ? "" : ", ") + std::to_string(c);
        throw config_error(fmt::format("{}: no example has a class in [{}]; check `classes`", name, list));
    }
}

image_store resize_images(const image_store& in, std::int64_t size) {
    image_store out{1, size, size, {}, in.labels};
    out.pixels.reserve(static_cast<std::size_t>(in.count() * size * size));
    const std::int64_t bytes = in.example_bytes();
    for (std::int64_t i = 0; i < in.count(); ++i) {
        const auto first = in.pixels.begin() + static_cast<std::ptrdiff_t>(i * bytes);
        const image resized = resize_bilinear(image{in.width, in.height, 1, {first, first + bytes}}, size, size);
        out.pixels.insert(out.pixels.end(), resized.pixels.begin(), resized.pixels.end());
    }
    return out;
}

void mirror_images(image_store& images, bool vertical) {
    const std::int64_t h = images.height, w = images.width;
    std::vector<std::uint8_t> mirrored(images.pixels.size());
    for (std::int64_t plane = 0; plane < images.count() * images.channels; ++plane)
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x)
                mirrored[static_cast<std::size_t>((plane * h + y) * w + x)] = images.pixels[static_cast<std::size_t>(
                    (plane * h + (vertical ? h - 1 - y : y)) * w + (vertical ? x : w - 1 - x))];
    images.pixels = std::move(mirrored);
}

image_dataset::image_dataset(std::string name, image_store images, bool hflip)
    : name_(std::move(name)), images_(std::move(images)), hflip_(hflip) {}

example_batch image_dataset::get(const std::vector<std::int64_t>& indices) const {
    static const std::array<float, 256> scaled = [] {
        std::array<float, 256> table{};
        for (int v = 0; v < 256; ++v) table[static_cast<std::size_t>(v)] = static_cast<float>(v / 127.5 - 1.0);
        return table;
    }();
    const std::int64_t n = static_cast<std::int64_t>(indices.size()), stored = images_.count();
    const std::int64_t h = images_.height, w = images_.width, bytes = images_.example_bytes();
    example_batch batch{tensor::empty({n, images_.channels, h, w}), tensor::empty({n})};
    float* x = batch.x.data<float>();
    float* labels = batch.labels.data<float>();
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t index = indices[static_cast<std::size_t>(i)];
        if (index < 0 || index >= size())
            throw error(fmt::format("{}: example index {} is out of range [0, {})", name_, index, size()));
        const bool flip = index >= stored;
        const std::int64_t source = flip ? index - stored : index;
        const std::uint8_t* p = images_.pixels.data() + source * bytes;
        float* out = x + i * bytes;
        if (!flip) {
            for (std::int64_t j = 0; j < bytes; ++j) out[j] = scaled[p[j]];
        } else {
            for (std::int64_t row = 0; row < bytes / w; ++row)
                for (std::int64_t col = 0; col < w; ++col) out[row * w + col] = scaled[p[row * w + (w - 1 - col)]];
        }
        labels[i] = static_cast<float>(images_.labels[static_cast<std::size_t>(source)]);
    }
    return batch;
}

}  // namespace difflab::plugins
