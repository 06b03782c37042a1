// SPDX-License-Identifier: Apache-2.0
// The 'cifar10' dataset: 32x32 color images in 10 classes from the binary batch files.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image_dataset.h"

namespace difflab::plugins {

/// CIFAR-10 (Krizhevsky 2009, "Learning multiple layers of features from tiny images"): 50,000
/// training and 10,000 test RGB images of 32x32 in 10 classes (0 airplane ... 9 truck), the
/// data set of DDPM's and DDIM's image results. Reads the binary version (cifar-10-binary.tar.gz:
/// data_batch_1.bin ... data_batch_5.bin, test_batch.bin; records of 1 label byte and 3072
/// bytes of red, green and blue 32x32 planes) once, in the constructor. Examples are
/// [3, 32, 32] in [-1, 1]; labels 0..9. Loading spends no denoiser evaluations.
class cifar10_dataset final : public image_dataset {
public:
    struct options {
        std::string directory;
        std::string split = "train";
        std::vector<std::int64_t> classes;
        bool hflip = false;
        std::int64_t limit = 0;
    };
    static param_spec<options> params();

    cifar10_dataset(const options& opts, build_context& ctx);

private:
    options opts_;
};

/// Appends the records of one CIFAR-10 binary batch file to `images` ([3, 32, 32] each). A
/// missing file is a config_error; a size that is not a whole number of 3073-byte records and
/// a label above 9 are errors naming the file.
void read_cifar10_batch(const std::string& path, image_store& images);

}  // namespace difflab::plugins
