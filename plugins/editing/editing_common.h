// SPDX-License-Identifier: Apache-2.0
// What the editing tasks share: the images they start from, comparison figures, masked PSNR.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace difflab::plugins {

/// The first `count` examples of the run's data: the images an editing task starts from, and
/// their labels (undefined when the data set has none). `task` names the task in the error when
/// the data set is smaller or not images.
struct source_images {
    tensor x;
    tensor labels;
};
source_images load_source_images(const dataset& data, std::int64_t count, const std::string& task);

/// A figure of rows: each tensor [N, C, H, W] gives one row of its first `columns` images
/// (input | output | target, as in RePaint's and SDEdit's figures), in [-1, 1].
void write_comparison_figure(const std::filesystem::path& file, const std::vector<tensor>& rows, std::int64_t columns);

/// The mean over images of the PSNR over the pixels where `masks` [N, 1, H, W] is 0 (the
/// missing ones), for values in [-1, 1]: 10 log10(2^2 / MSE). Images without a missing pixel
/// are left out; an image reproduced exactly there counts with the MSE of one level in 255.
double missing_pixel_psnr(const tensor& samples, const tensor& targets, const tensor& masks);

}  // namespace difflab::plugins
