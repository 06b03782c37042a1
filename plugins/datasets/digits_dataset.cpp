// SPDX-License-Identifier: Apache-2.0
// The 'digits' dataset: a CSV read through zlib, scaled and resized.
#include "digits_dataset.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "gz_reader.h"

namespace difflab::plugins {

namespace {

constexpr std::int64_t side = 8;
constexpr const char* repair = "reinstall Debian package python3-sklearn (tools/setup installs it) or set `file`";

image_store read_digits(const std::string& file) {
    if (!std::filesystem::is_regular_file(file))
        throw config_error(source_mark{file}, fmt::format("missing digits file; {}", repair));
    std::istringstream lines(gz_reader(file, repair).read_all());
    image_store store{1, side, side, {}, {}};
    std::string line;
    for (int number = 1; std::getline(lines, line); ++number) {
        if (line.empty()) continue;
        std::istringstream fields(line);
        std::string field;
        std::vector<long> values;
        while (std::getline(fields, field, ',')) {
            char* end = nullptr;
            const long v = std::strtol(field.c_str(), &end, 10);
            if (field.empty() || *end != '\0')
                throw error(source_mark{file, number, 1},
                            fmt::format("'{}' is not an integer; the file is damaged, {}", field, repair));
            values.push_back(v);
        }
        if (values.size() != side * side + 1)
            throw error(source_mark{file, number, 1}, fmt::format("{} values where a digit has 65 (64 pixels and "
                                                                  "the label); the file is damaged, {}",
                                                                  values.size(), repair));
        for (std::size_t i = 0; i < side * side; ++i) {
            if (values[i] < 0 || values[i] > 16)
                throw error(source_mark{file, number, 1},
                            fmt::format("pixel value {} is outside 0..16; the file is damaged, {}", values[i], repair));
            store.pixels.push_back(
                static_cast<std::uint8_t>(std::lround(static_cast<double>(values[i]) * 255.0 / 16.0)));
        }
        if (values.back() < 0 || values.back() > 9)
            throw error(source_mark{file, number, 1},
                        fmt::format("label {} is not a digit 0..9; the file is damaged, {}", values.back(), repair));
        store.labels.push_back(static_cast<std::int32_t>(values.back()));
    }
    return store;
}

image_store load(const digits_dataset::options& o) {
    image_store store = read_digits(o.file);
    keep_examples(store, o.classes, o.limit, "digits");
    return o.size == side ? store : resize_images(store, o.size);
}

}  // namespace

param_spec<digits_dataset::options> digits_dataset::params() {
    param_spec<options> spec{
        "scikit-learn's 1797 handwritten digits (8x8, UCI), resized: an out-of-distribution set for Fashion-MNIST."};
    spec.add(&options::file, "file", "The digits CSV (gzipped or plain) of Debian's python3-sklearn.", non_empty());
    spec.add(&options::classes, "classes", "Digits to keep (labels keep their numbers); empty: all.",
             closed_range<std::int64_t>(0, 9));
    spec.add(&options::size, "size", "Side of the examples: 8 as stored, else a bilinear resize (28: Fashion-MNIST's).",
             closed_range<std::int64_t>(1, 1024));
    spec.add(&options::limit, "limit", "Keep only the first N examples (after `classes`); 0: all.",
             at_least<std::int64_t>(0));
    return spec;
}

digits_dataset::digits_dataset(const options& opts, build_context&)
    : image_dataset("digits", load(opts), false), opts_(opts) {}

}  // namespace difflab::plugins
