// SPDX-License-Identifier: Apache-2.0
// The 'fashion_scenes' dataset.
#include "fashion_scenes_dataset.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <difflab/plugin/config_node.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <cmath>
#include <memory>

#include "scene_composition.h"

namespace difflab::plugins {

param_spec<fashion_scenes_dataset::options> fashion_scenes_dataset::params() {
    param_spec<options> spec{
        "Segmentation scenes: Fashion-MNIST garments on a low-contrast background, with per-pixel labels."};
    spec.add(&options::split, "split", "Fashion-MNIST split the garments and backgrounds come from.",
             one_of({"train", "test"}));
    spec.add(&options::count, "count", "Number of scenes.", at_least<std::int64_t>(1));
    spec.add(&options::canvas, "canvas", "Side of a scene in pixels.", closed_range<std::int64_t>(8, 256));
    spec.add(&options::max_garments, "max_garments", "Garments per scene: 1 to this many.",
             closed_range<std::int64_t>(1, 16));
    spec.add(&options::min_size, "min_size", "Smallest garment side in pixels.", at_least<std::int64_t>(2));
    spec.add(&options::max_size, "max_size", "Largest garment side in pixels (at most the canvas).",
             at_least<std::int64_t>(2));
    spec.add(&options::threshold, "threshold", "Garment pixels brighter than this (0..255) are painted and labelled.",
             closed_range<std::int64_t>(0, 254));
    spec.add(&options::background_contrast, "background_contrast",
             "The background image's intensity factor (low: a faint texture behind the garments).",
             closed_range(0.0, 1.0));
    spec.add(&options::labels, "labels", "classes: 0 background, 1 + class; binary: 0 background, 1 garment.",
             one_of({"classes", "binary"}));
    spec.add(&options::example, "example",
             "image: x the image, paired the labels; mask: x the binary mask in {0, 1}, paired the image.",
             one_of({"image", "mask"}));
    spec.add(&options::seed, "seed", "Seed of the scenes; -1 takes the experiment's seed.", at_least<std::int64_t>(-1));
    spec.add(&options::directory, "directory", "Folder of the Fashion-MNIST IDX files.", non_empty());
    return spec;
}

fashion_scenes_dataset::fashion_scenes_dataset(const options& opts, build_context& ctx) : opts_(opts) {
    if (opts_.min_size > opts_.max_size || opts_.max_size > opts_.canvas)
        throw config_error(
            fmt::format("fashion_scenes: garment sizes {}..{} do not fit: need min_size <= max_size <= "
                        "canvas ({})",
                        opts_.min_size, opts_.max_size, opts_.canvas));
    seed_ = opts_.seed >= 0 ? static_cast<std::uint64_t>(opts_.seed) : ctx.seed();
    config_node source = config_node::map();
    source.set("type", config_node::scalar("fashion_mnist"));
    source.set("split", config_node::scalar(opts_.split));
    source.set("directory", config_node::scalar(opts_.directory));
    const std::unique_ptr<component> made = ctx.create("dataset", source);
    const auto& garments = dynamic_cast<const dataset&>(*made);
    sources_ = garments.size();
    std::vector<std::int64_t> all(static_cast<std::size_t>(sources_));
    for (std::int64_t i = 0; i < sources_; ++i) all[static_cast<std::size_t>(i)] = i;
    const example_batch batch = garments.get(all);
    const std::vector<float> x = batch.x.to_vector(), labels = batch.labels.to_vector();
    pixels_.reserve(x.size());
    for (float v : x) pixels_.push_back(static_cast<std::uint8_t>(std::lround((v + 1.0f) * 127.5f)));
    for (float l : labels) classes_.push_back(static_cast<std::int32_t>(l));
}

namespace {

std::vector<std::uint8_t> resized(const std::uint8_t* pixels, std::int64_t side) {
    return resize_bilinear(image{28, 28, 1, std::vector<std::uint8_t>(pixels, pixels + 784)}, side, side).pixels;
}

}  // namespace

example_batch fashion_scenes_dataset::get(const std::vector<std::int64_t>& indices) const {
    const std::int64_t canvas = opts_.canvas, plane = canvas * canvas;
    std::vector<float> images, labels;
    images.reserve(indices.size() * static_cast<std::size_t>(plane));
    labels.reserve(images.capacity());
    for (std::int64_t i : indices) {
        if (i < 0 || i >= opts_.count)
            throw error(fmt::format("fashion_scenes: scene index {} is out of range [0, {})", i, opts_.count));
        philox_stream stream(seed_, random_purpose("fashion_scenes"), static_cast<std::uint64_t>(i));
        const auto pick = [&](std::int64_t bound) {
            return static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(bound)));
        };
        std::vector<std::uint8_t> background = resized(pixels_.data() + pick(sources_) * 784, canvas);
        for (std::uint8_t& v : background)
            v = static_cast<std::uint8_t>(std::lround(opts_.background_contrast * static_cast<double>(v)));
        std::vector<garment_placement> garments(static_cast<std::size_t>(1 + pick(opts_.max_garments)));
        for (garment_placement& g : garments) {
            const std::int64_t source = pick(sources_);
            g.size = opts_.min_size + pick(opts_.max_size - opts_.min_size + 1);
            g.top = pick(canvas - g.size + 1);
            g.left = pick(canvas - g.size + 1);
            g.label = classes_[static_cast<std::size_t>(source)];
            g.pixels = resized(pixels_.data() + source * 784, g.size);
        }
        const painted_scene scene =
            paint_scene(std::move(background), canvas, garments, static_cast<std::uint8_t>(opts_.threshold));
        for (std::int64_t p = 0; p < plane; ++p) {
            images.push_back(static_cast<float>(scene.image[static_cast<std::size_t>(p)]) / 127.5f - 1.0f);
            const std::uint8_t l = scene.labels[static_cast<std::size_t>(p)];
            labels.push_back(opts_.labels == "binary" ? (l > 0 ? 1.0f : 0.0f) : static_cast<float>(l));
        }
    }
    const shape_t shape{static_cast<std::int64_t>(indices.size()), 1, canvas, canvas};
    example_batch out;
    const tensor picture = tensor::from_vector(shape, images), truth = tensor::from_vector(shape, labels);
    if (opts_.example == "image") {
        out.x = picture;
        out.paired = truth;
    } else {  // mask: the foreground in {0, 1}
        std::vector<float> mask(labels.size());
        for (std::size_t k = 0; k < labels.size(); ++k) mask[k] = labels[k] > 0 ? 1.0f : 0.0f;
        out.x = tensor::from_vector(shape, mask);
        out.paired = picture;
    }
    return out;
}

}  // namespace difflab::plugins
