// SPDX-License-Identifier: Apache-2.0
// Synthetic anomalies pasted onto real images, with their ground-truth masks.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Images with anomalies pasted onto some of them, and the truth an anomaly detector is scored
/// against.
struct anomalous_images {
    tensor x;       ///< [N, C, H, W] in [-1, 1]
    tensor masks;   ///< [N, 1, H, W]: 1 on pasted pixels, else 0
    tensor labels;  ///< [N]: 1 for an image with an anomaly, else 0
};

/// The anomaly kinds paste_anomalies knows: square (a constant square) and patch (a square cut
/// from another image of the batch).
const std::vector<std::string>& anomaly_kinds();

/// Pastes a `size` x `size` anomaly onto each image of `images` ([N, C, H, W]) with probability
/// `fraction`: a `square` of one value, -1 or 1, whichever is farther from the mean of the pixels
/// it covers (so that it is visible), or a `patch` cut from the image `shift` places further in
/// the batch at another position. Every choice of image i (whether, where, which) comes from the
/// Philox stream (seed, "anomaly/paste", first + i), so an image's anomaly does not depend on
/// the batch. Throws when the images are smaller than the anomaly.
anomalous_images paste_anomalies(const tensor& images, const std::string& kind, std::int64_t size, double fraction,
                                 std::uint64_t seed, std::int64_t first = 0, std::int64_t shift = 1);

}  // namespace difflab::plugins
