// SPDX-License-Identifier: Apache-2.0
// The 'metric' component kind.
#pragma once

#include <difflab/component.h>

namespace difflab {

/// Numbers from samples and references (FID, PSNR, NLL, ...).
class metric : public component {
public:
    static constexpr const char* kind_name = "metric";
    using kind_type = metric;
};

}  // namespace difflab
