// SPDX-License-Identifier: Apache-2.0
// The 'image_folder' dataset: every PNG under a folder, classes from its subfolders.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image_dataset.h"

namespace difflab::plugins {

/// Images from PNG files under `directory`, found recursively and read in sorted path order,
/// with torchvision's ImageFolder convention for labels: when the PNGs lie in subfolders, each
/// top-level subfolder (sorted by name) is a class and an image's label is its folder's index;
/// a flat folder gives every image label 0. Images are converted to `channels`, and with `size`
/// resized so that the shorter side is `size` (antialiased bilinear) and center-cropped to
/// size x size, as guided-diffusion's and most diffusion data loaders prepare LSUN and CelebA;
/// with size 0 every image must already have the same size. All images are decoded once, in
/// the constructor, and held as bytes. Loading spends no denoiser evaluations.
class image_folder_dataset final : public image_dataset {
public:
    struct options {
        std::string directory;
        std::int64_t channels = 3;
        std::int64_t size = 0;
        bool hflip = false;
        std::int64_t limit = 0;
    };
    static param_spec<options> params();

    image_folder_dataset(const options& opts, build_context& ctx);

    /// The class subfolders in label order (empty for a flat folder).
    const std::vector<std::string>& class_names() const { return class_names_; }

private:
    image_folder_dataset(const options& opts, std::pair<image_store, std::vector<std::string>> loaded);

    options opts_;
    std::vector<std::string> class_names_;
};

}  // namespace difflab::plugins
