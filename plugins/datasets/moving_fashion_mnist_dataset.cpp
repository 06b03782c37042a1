// SPDX-License-Identifier: Apache-2.0
// The 'moving_fashion_mnist' dataset: garments resized once; each sequence drawn from its index.
#include "moving_fashion_mnist_dataset.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <difflab/plugin/config_node.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <numeric>

namespace difflab::plugins {

namespace {

constexpr std::int64_t source_side = 28;
/// Fashion-MNIST images fetched per `get` while loading: bounds the f32 copy (12 MB, not 188 MB).
constexpr std::int64_t load_chunk = 4096;

}  // namespace

std::vector<std::array<std::int64_t, 2>> bouncing_trajectory(std::array<std::int64_t, 2> start,
                                                             std::array<std::int64_t, 2> velocity, std::int64_t frames,
                                                             std::int64_t limit) {
    std::vector<std::array<std::int64_t, 2>> path;
    path.reserve(static_cast<std::size_t>(std::max<std::int64_t>(frames, 0)));
    for (std::int64_t t = 0; t < frames; ++t) {
        for (std::size_t d = 0; d < 2; ++d) {
            if (start[d] < 0) {
                start[d] = 0;
                velocity[d] = -velocity[d];
            } else if (start[d] > limit) {
                start[d] = limit;
                velocity[d] = -velocity[d];
            }
        }
        path.push_back(start);
        for (std::size_t d = 0; d < 2; ++d) start[d] += velocity[d];
    }
    return path;
}

param_spec<moving_fashion_mnist_dataset::options> moving_fashion_mnist_dataset::params() {
    param_spec<options> spec{
        "Videos of 1 to max_garments Fashion-MNIST garments bouncing in a square canvas (Moving MNIST, Denton & "
        "Fergus 2018)."};
    spec.add(&options::split, "split",
             "Fashion-MNIST split the garments come from: train sequences use training images, test sequences test "
             "images.",
             one_of({"train", "test"}));
    spec.add(&options::count, "count", "Number of sequences.", at_least<std::int64_t>(1));
    spec.add(&options::frames, "frames", "Frames per sequence.", closed_range<std::int64_t>(1, 64));
    spec.add(&options::canvas, "canvas", "Side of a frame in pixels.", closed_range<std::int64_t>(4, 256));
    spec.add(&options::garment_size, "garment_size",
             "Side of a garment in pixels: the 28x28 image resized bilinearly (at most the canvas).",
             closed_range<std::int64_t>(1, 256));
    spec.add(&options::max_garments, "max_garments", "Garments per sequence: 1 to this many.",
             closed_range<std::int64_t>(1, 4));
    spec.add(&options::max_speed, "max_speed",
             "Largest velocity component in pixels per frame: (dy, dx) integers in [-max_speed, max_speed], not "
             "both 0.",
             closed_range<std::int64_t>(1, 256));
    spec.add(&options::seed, "seed", "Seed of the sequences; -1 takes the experiment's seed.",
             at_least<std::int64_t>(-1));
    spec.add(&options::directory, "directory", "Folder of the Fashion-MNIST IDX files.", non_empty());
    return spec;
}

moving_fashion_mnist_dataset::moving_fashion_mnist_dataset(const options& opts, build_context& ctx) : opts_(opts) {
    if (opts_.garment_size > opts_.canvas)
        throw config_error(
            fmt::format("moving_fashion_mnist: garment_size {} does not fit in the canvas ({}); set garment_size "
                        "<= canvas, or a larger canvas",
                        opts_.garment_size, opts_.canvas));
    seed_ = opts_.seed >= 0 ? static_cast<std::uint64_t>(opts_.seed) : ctx.seed();
    config_node source = config_node::map();
    source.set("type", config_node::scalar("fashion_mnist"));
    source.set("split", config_node::scalar(opts_.split));
    source.set("directory", config_node::scalar(opts_.directory));
    const std::unique_ptr<component> made = ctx.create("dataset", source);
    const auto& images = dynamic_cast<const dataset&>(*made);
    sources_ = images.size();
    const std::int64_t side = opts_.garment_size, plane = source_side * source_side;
    pixels_.reserve(static_cast<std::size_t>(sources_ * side * side));
    classes_.reserve(static_cast<std::size_t>(sources_));
    std::vector<std::int64_t> chunk;
    std::vector<std::uint8_t> original(static_cast<std::size_t>(plane));
    for (std::int64_t first = 0; first < sources_; first += load_chunk) {
        chunk.resize(static_cast<std::size_t>(std::min(load_chunk, sources_ - first)));
        std::iota(chunk.begin(), chunk.end(), first);
        const example_batch batch = images.get(chunk);
        const tensor pixels = batch.x.contiguous();
        const float* x = pixels.data<float>();  // v / 127.5 - 1 for the bytes v: back to v exactly
        const std::vector<float> labels = batch.labels.to_vector();
        for (std::size_t i = 0; i < chunk.size(); ++i) {
            for (std::int64_t p = 0; p < plane; ++p)
                original[static_cast<std::size_t>(p)] =
                    static_cast<std::uint8_t>((x[static_cast<std::int64_t>(i) * plane + p] + 1.0f) * 127.5f + 0.5f);
            if (side == source_side) {
                pixels_.insert(pixels_.end(), original.begin(), original.end());
            } else {
                const image garment = resize_bilinear(image{source_side, source_side, 1, original}, side, side);
                pixels_.insert(pixels_.end(), garment.pixels.begin(), garment.pixels.end());
            }
            classes_.push_back(static_cast<std::int32_t>(labels[i]));
        }
    }
}

std::vector<moving_fashion_mnist_dataset::moving_garment> moving_fashion_mnist_dataset::garments(
    std::int64_t index) const {
    if (index < 0 || index >= opts_.count)
        throw error(fmt::format("moving_fashion_mnist: sequence index {} is out of range [0, {})", index, opts_.count));
    philox_stream stream(seed_, random_purpose("moving_fashion_mnist"), static_cast<std::uint64_t>(index));
    const auto pick = [&](std::int64_t bound) {
        return static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(bound)));
    };
    const std::int64_t positions = opts_.canvas - opts_.garment_size + 1, speeds = 2 * opts_.max_speed + 1;
    const std::int64_t pairs = speeds * speeds - 1;  // every (dy, dx) but (0, 0)
    std::vector<moving_garment> drawn(static_cast<std::size_t>(1 + pick(opts_.max_garments)));
    for (moving_garment& g : drawn) {
        g.source = pick(sources_);
        g.label = classes_[static_cast<std::size_t>(g.source)];
        g.start[0] = pick(positions);
        g.start[1] = pick(positions);
        // The pairs in row-major order over [-max_speed, max_speed]^2 with (0, 0), the middle one, left out.
        std::int64_t k = pick(pairs);
        if (k >= pairs / 2) ++k;
        g.velocity = {k / speeds - opts_.max_speed, k % speeds - opts_.max_speed};
    }
    return drawn;
}

example_batch moving_fashion_mnist_dataset::get(const std::vector<std::int64_t>& indices) const {
    static const std::array<float, 256> scaled = [] {
        std::array<float, 256> table{};
        for (int v = 0; v < 256; ++v) table[static_cast<std::size_t>(v)] = static_cast<float>(v / 127.5 - 1.0);
        return table;
    }();
    const std::int64_t n = static_cast<std::int64_t>(indices.size()), frames = opts_.frames, canvas = opts_.canvas;
    const std::int64_t plane = canvas * canvas, volume = frames * plane, side = opts_.garment_size;
    example_batch batch{tensor::empty({n, 1, frames, canvas, canvas}), tensor::empty({n})};
    float* x = batch.x.data<float>();
    float* labels = batch.labels.data<float>();
    std::vector<std::uint16_t> sum(static_cast<std::size_t>(volume));  // at most 4 x 255
    for (std::int64_t i = 0; i < n; ++i) {
        const std::vector<moving_garment> drawn = garments(indices[static_cast<std::size_t>(i)]);
        std::fill(sum.begin(), sum.end(), std::uint16_t{0});
        for (const moving_garment& g : drawn) {
            const std::uint8_t* pixels = pixels_.data() + g.source * side * side;
            const auto path = bouncing_trajectory(g.start, g.velocity, frames, canvas - side);
            for (std::int64_t t = 0; t < frames; ++t) {
                const auto [top, left] = path[static_cast<std::size_t>(t)];
                for (std::int64_t y = 0; y < side; ++y) {
                    std::uint16_t* row = sum.data() + t * plane + (top + y) * canvas + left;
                    const std::uint8_t* from = pixels + y * side;
                    for (std::int64_t c = 0; c < side; ++c) row[c] = static_cast<std::uint16_t>(row[c] + from[c]);
                }
            }
        }
        // Intensities summed, clipped at 1 (255), then mapped to [-1, 1].
        float* out = x + i * volume;
        for (std::int64_t p = 0; p < volume; ++p)
            out[p] = scaled[std::min<std::uint16_t>(sum[static_cast<std::size_t>(p)], 255)];
        labels[i] = static_cast<float>(drawn.front().label);
    }
    return batch;
}

}  // namespace difflab::plugins
