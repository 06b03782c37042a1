// SPDX-License-Identifier: Apache-2.0
// The 'digits' dataset: scikit-learn's 8x8 handwritten digits, an out-of-distribution set.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image_dataset.h"

namespace difflab::plugins {

/// The optical-recognition handwritten digits of UCI (Alpaydin & Kaynak 1998) as scikit-learn
/// ships them (Debian python3-sklearn, sklearn/datasets/data/digits.csv.gz): 1797 gray images of
/// 8x8 pixels with values 0..16, one per CSV line followed by its label 0..9. Values are scaled
/// to 0..255 (v * 255 / 16, rounded) and, for `size` other than 8, resized bilinearly (28:
/// Fashion-MNIST's size, the out-of-distribution set of Graham et al. 2023). Examples are
/// [1, size, size] in [-1, 1]. A malformed line is an error at file:line.
class digits_dataset final : public image_dataset {
public:
    struct options {
        std::string file = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";
        std::vector<std::int64_t> classes;
        std::int64_t size = 28;
        std::int64_t limit = 0;
    };
    static param_spec<options> params();

    digits_dataset(const options& opts, build_context& ctx);

private:
    options opts_;
};

}  // namespace difflab::plugins
