// SPDX-License-Identifier: Apache-2.0
// The 'noise' component kind: the noise a process adds and samplers draw.
#pragma once

#include <difflab/plugin/component.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>

namespace difflab {

/// The noise of x_t = alpha x_0 + sigma noise: Gaussian for every formulation in the survey,
/// a kind of its own so that other noise (simplex noise, as in AnoDDPM by Wyatt et al. 2022)
/// can plug in. Draws are keyed like every random number in difflab: example i of a batch
/// whose first example is `first_index` reads the stream (seed, purpose, first_index + i,
/// step), so results do not depend on batch size or thread count.
class noise : public component {
public:
    static constexpr const char* kind_name = "noise";
    using kind_type = noise;

    /// A batch of noise of `shape` (dimension 0 indexes examples), zero mean, unit variance.
    virtual tensor draw(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index,
                        std::uint64_t step) const = 0;
};

/// source->draw(...), or standard Gaussian noise (difflab::randn, exactly the draws of the
/// `gaussian` component) when source is nullptr: the default when an experiment has no `noise:`.
tensor draw_noise(const noise* source, const shape_t& shape, std::uint64_t seed, std::uint64_t purpose,
                  std::uint64_t first_index, std::uint64_t step);

}  // namespace difflab
