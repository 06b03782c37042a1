// SPDX-License-Identifier: Apache-2.0
// The 'sampler' component kind.
#pragma once

#include <difflab/component.h>

namespace difflab {

/// Integrates the reverse process from a denoiser (DDPM, DDIM, DPM-Solver, EDM, ...).
class sampler : public component {
public:
    static constexpr const char* kind_name = "sampler";
    using kind_type = sampler;
};

}  // namespace difflab
