// SPDX-License-Identifier: Apache-2.0
// The 'dataset' component kind: examples addressed by index.
#pragma once

#include <difflab/plugin/component.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <vector>

namespace difflab {

/// A batch of examples: `x` [N, ...example_shape] and, where the dataset has them, class
/// labels [N] (f32 holding whole numbers; undefined otherwise) and a paired input per example
/// (undefined otherwise): what an image-to-image task conditions on, such as the
/// low-resolution image of super-resolution (SR3), the image whose segmentation x is (Wolleb
/// et al. 2022), or an observed frame of a video. The dataset only pairs; the task decides what
/// the network sees (condition.h: concatenated channels, after upsampling or noising).
struct example_batch {
    tensor x;
    tensor labels;
    tensor paired{};  ///< [N, ...] in the dataset's own shape (e.g. [N, C, H / 4, W / 4])
};

/// Examples addressed by index, so that the trainer's order (and any sharding across ranks)
/// is the caller's choice and the same index always gives the same example. Generators such
/// as Gaussian mixtures draw example i from its own random stream, whatever the batch.
class dataset : public component {
public:
    static constexpr const char* kind_name = "dataset";
    using kind_type = dataset;

    /// Number of examples (indices 0 .. size() - 1).
    virtual std::int64_t size() const = 0;
    /// Shape of one example: [C, H, W] for images, [D] for points.
    virtual shape_t example_shape() const = 0;
    /// The examples at `indices`, in that order.
    virtual example_batch get(const std::vector<std::int64_t>& indices) const = 0;
};

}  // namespace difflab
