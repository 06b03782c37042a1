// SPDX-License-Identifier: Apache-2.0
// The real images a task edits or restores, and figures that set its outputs beside them.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace difflab {

/// The first `count` examples of the run's data: the images an editing or restoration task
/// starts from, and their labels (undefined when the data set has none).
struct source_images {
    tensor x;
    tensor labels;
};
/// Throws a config_error naming `task` when the data set is smaller than `count` or not images.
source_images load_source_images(const dataset& data, std::int64_t count, const std::string& task);

/// A figure of rows: each tensor [N, C, H, W] gives one row of its first `columns` images
/// (input | output | target, as in RePaint's, SDEdit's and SR3's figures), in [-1, 1]. Rows of
/// smaller images (a low-resolution input) are upsampled by pixel repetition to the largest
/// row's size.
void write_comparison_figure(const std::filesystem::path& file, const std::vector<tensor>& rows, std::int64_t columns);

}  // namespace difflab
