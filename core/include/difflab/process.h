// SPDX-License-Identifier: Apache-2.0
// The 'process' component kind.
#pragma once

#include <difflab/component.h>

namespace difflab {

/// Forward noising process: x_t = alpha(t) x0 + sigma(t) noise, its SDE, prior and training-time
/// distribution. The interface grows with the processes issue (DESIGN.md §2).
class process : public component {
public:
    static constexpr const char* kind_name = "process";
    using kind_type = process;
};

}  // namespace difflab
