// SPDX-License-Identifier: Apache-2.0
// The 'dataset' component kind.
#pragma once

#include <difflab/component.h>

namespace difflab {

/// Batches of examples (image, label, masks, frames).
class dataset : public component {
public:
    static constexpr const char* kind_name = "dataset";
    using kind_type = dataset;
};

}  // namespace difflab
