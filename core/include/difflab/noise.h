// SPDX-License-Identifier: Apache-2.0
// The 'noise' component kind.
#pragma once

#include <difflab/component.h>

namespace difflab {

/// The noise a process draws (Gaussian, simplex, ...).
class noise : public component {
public:
    static constexpr const char* kind_name = "noise";
    using kind_type = noise;
};

}  // namespace difflab
