// SPDX-License-Identifier: Apache-2.0
// The 'dataset' component kind: examples addressed by index.
#pragma once

#include <difflab/plugin/component.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <vector>

namespace difflab {

/// A batch of examples: `x` [N, ...example_shape] and, where the dataset has them, class
/// labels [N] (f32 holding whole numbers; undefined otherwise).
struct example_batch {
    tensor x;
    tensor labels;
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
