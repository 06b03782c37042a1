// SPDX-License-Identifier: Apache-2.0
// What the measurement operators share.
#include "measurement_common.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

namespace difflab::plugins {

image_size image_example(const shape_t& example, const std::string& name) {
    if (example.size() != 3)
        throw config_error(
            fmt::format("{} acts on images [C, H, W], not on examples of shape {}; use it on image data, "
                        "or mask or identity on points",
                        name, shape_text(example)));
    return {example[0], example[1], example[2]};
}

std::int64_t mirror_index(std::int64_t j, std::int64_t n) {
    std::int64_t r = j % (2 * n);
    if (r < 0) r += 2 * n;
    return r < n ? r : 2 * n - 1 - r;
}

}  // namespace difflab::plugins
