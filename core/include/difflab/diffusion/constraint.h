// SPDX-License-Identifier: Apache-2.0
// Constraints: edits of the sampler's state between steps, at the state's own noise level.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>

namespace difflab {

struct sampling_context;

/// An edit of the sampling state x_t between steps (replacement inpainting, Song et al. 2021
/// and Lugmayr et al. 2022; ILVR's low-pass swap, Choi et al. 2021; RaMViD's clean frames),
/// applied by follow_path to the state at the path's start and after each denoising step
/// that enables constraints, at the time t of that very state: the known part enters at the
/// noise level of the state it joins, not one step off.
class state_constraint {
public:
    virtual ~state_constraint() = default;
    /// The edited state; `index` (the state's position on the path) keys any noise drawn.
    virtual tensor apply(const tensor& x, double t, std::uint64_t index, const sampling_context& ctx) const = 0;
};

}  // namespace difflab
