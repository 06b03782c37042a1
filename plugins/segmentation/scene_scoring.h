// SPDX-License-Identifier: Apache-2.0
// What both segmentation tasks read and score: scenes with label maps, uncertainty against mistakes.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>

namespace difflab::plugins {

/// The first examples of a segmentation data set: x and its `paired` map of the same size.
struct scene_batch {
    tensor x;       ///< [N, C, H, W]
    tensor paired;  ///< [N, 1, H, W] (fashion_scenes: the label map, or the image of a mask)
};

/// The first `count` examples of `data` (named `which` in errors); a config_error naming `task`
/// when there are fewer or no `paired` map [N, 1, H, W] beside x.
scene_batch load_scenes(const dataset& data, std::int64_t count, const std::string& which, const std::string& task);

/// How well `uncertainty` ranks the wrong pixels (predicted != truth, values rounded to ids)
/// above the right ones: the AUROC of the `auroc` metric over every pixel, NaN when all pixels
/// are right or all wrong.
double wrong_pixel_auroc(build_context& builder, const tensor& uncertainty, const tensor& predicted,
                         const tensor& truth);

}  // namespace difflab::plugins
