// SPDX-License-Identifier: Apache-2.0
// An NFE budget turned into a sampler's `steps`, for comparisons at equal cost.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <functional>
#include <optional>

namespace difflab {

/// The resolved sampler node `sampler` with `steps` set to the largest value whose
/// sampler::evaluations(p) fits `budget` denoiser evaluations per sample: comparisons at equal
/// NFE (Karras et al. 2022, "Elucidating the design space of diffusion-based generative
/// models"; Lu et al. 2022, DPM-Solver) give each sampler what a budget buys, whatever one of
/// its steps costs (Heun: 2 per step but 1 for the last, RK4: 4, PLMS with PRK warm-up: 12 for
/// its first three). Evaluations grow with steps, so a binary search over [1, budget] finds
/// it with log2(budget) builds. Returns
///   - nullopt when even one step costs more than the budget,
///   - the node unchanged when `budget` is 0 (no budget), when the sampler type has no
///     `steps` option, or when it announces 0 evaluations (adaptive step sizes, whose cost
///     its tolerances set).
/// `sampler` must be a resolved node (type and every option); errors of building it propagate.
std::optional<config_node> sampler_for_budget(build_context& builder, const config_node& sampler, const process& p,
                                              std::int64_t budget);

class sampler;

/// As above with the cost of `steps` counted by `cost` on the sampler built with them (0:
/// unknown, as for adaptive samplers) instead of sampler::evaluations: conditioning that changes
/// what a run spends (RePaint's jumps back up, guidance that adds a vector-Jacobian product per
/// step, edits that restart a multistep solver's history) counts a dry run of its own.
std::optional<config_node> sampler_for_budget(build_context& builder, const config_node& sampler, std::int64_t budget,
                                              const std::function<std::int64_t(const difflab::sampler&)>& cost);

}  // namespace difflab
