// SPDX-License-Identifier: Apache-2.0
// The 'fashion_mnist' dataset: Zalando's 28x28 clothing images from Debian's IDX files.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image_dataset.h"

namespace difflab::plugins {

/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017, "Fashion-MNIST: a novel image dataset for
/// benchmarking machine learning algorithms"): 60,000 training and 10,000 test gray images of
/// 28x28 pixels in 10 classes (0 T-shirt/top ... 9 ankle boot), read from the gzipped IDX
/// files of Debian's dataset-fashion-mnist (or uncompressed ones of the same names) once, in
/// the constructor. Examples are [1, size, size] in [-1, 1]; labels 0..9. For size 32, as
/// DDPM trains on MNIST-like data, the images are padded with background (-1) or resized
/// bilinearly. Loading spends no denoiser evaluations.
class fashion_mnist_dataset final : public image_dataset {
public:
    struct options {
        std::string split = "train";
        std::string directory = "/usr/share/datasets/fashion-mnist";
        std::vector<std::int64_t> classes;
        std::int64_t size = 28;
        std::string resize = "pad";
        bool hflip = false;
        std::string flip = "none";
        std::int64_t limit = 0;
    };
    static param_spec<options> params();

    fashion_mnist_dataset(const options& opts, build_context& ctx);

private:
    options opts_;
};

/// Reads one pair of IDX files (images magic 0x00000803 with 28x28 uint8 images, labels magic
/// 0x00000801 with values 0..9), gzipped or not. A missing file is a config_error; a wrong
/// magic, wrong sizes, a count mismatch or a short read is an error naming the file.
image_store read_idx_pair(const std::string& images_path, const std::string& labels_path);

}  // namespace difflab::plugins
