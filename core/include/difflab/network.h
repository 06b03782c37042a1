// SPDX-License-Identifier: Apache-2.0
// The 'network' component kind.
#pragma once

#include <difflab/component.h>

namespace difflab {

/// A trainable module: (x_t, time input, condition) -> tensor.
class network : public component {
public:
    static constexpr const char* kind_name = "network";
    using kind_type = network;
};

}  // namespace difflab
