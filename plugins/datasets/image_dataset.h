// SPDX-License-Identifier: Apache-2.0
// What the image datasets share: 8-bit examples in memory, class and count filters, flips.
#pragma once

#include <difflab/diffusion/dataset.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Images of one shape held as bytes, [count, channels, height, width] planar, with one class
/// label each: a data set in memory costs a quarter of its f32 size.
struct image_store {
    std::int64_t channels = 0;
    std::int64_t height = 0;
    std::int64_t width = 0;
    std::vector<std::uint8_t> pixels;
    std::vector<std::int32_t> labels;

    std::int64_t count() const { return static_cast<std::int64_t>(labels.size()); }
    std::int64_t example_bytes() const { return channels * height * width; }
};

/// Keeps the examples whose label is in `classes` (all when empty), then the first `limit` of
/// them (all when 0), in their stored order; labels keep their original numbers. No example
/// left is a config_error naming `name`.
void keep_examples(image_store& images, const std::vector<std::int64_t>& classes, std::int64_t limit,
                   const std::string& name);

/// Every (gray) image resized to size x size with difflab's antialiased bilinear resampling.
image_store resize_images(const image_store& in, std::int64_t size);

/// Mirrors every image in place: upside down when `vertical`, else left to right.
void mirror_images(image_store& images, bool vertical);

/// A dataset of images in memory, scaled from 0..255 to [-1, 1] (x / 127.5 - 1, as DDPM).
///
/// Random horizontal flips (DDPM's CIFAR-10 augmentation) cannot be drawn per training step,
/// since a dataset only sees indices; with `hflip` the dataset instead holds every image twice:
/// index i < N as stored and index N + i mirrored left to right. A trainer that draws indices
/// uniformly (a permutation per epoch) then sees each orientation with probability 1/2, as with
/// a random flip, and index i is still always the same example.
class image_dataset : public dataset {
public:
    std::int64_t size() const override { return hflip_ ? 2 * images_.count() : images_.count(); }
    shape_t example_shape() const override { return {images_.channels, images_.height, images_.width}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override;

    /// The stored images (after filtering, without the flipped copies).
    const image_store& images() const { return images_; }

protected:
    image_dataset(std::string name, image_store images, bool hflip);

private:
    std::string name_;
    image_store images_;
    bool hflip_;
};

}  // namespace difflab::plugins
