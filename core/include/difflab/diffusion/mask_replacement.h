// SPDX-License-Identifier: Apache-2.0
// Replacement inpainting with a mask per sample.
#pragma once

#include <difflab/diffusion/constraint.h>
#include <difflab/diffusion/process.h>
#include <difflab/tensor/tensor.h>

namespace difflab {

/// Replacement inpainting (Song et al. 2021; Lugmayr et al. 2022, RePaint) with its own mask for
/// every sample: x' = (1 - m) x + m (alpha(t) x0 + sigma(t) z), where m [N, 1 or C, ...] is 1 on
/// the known pixels and x0 [N, C, ...] holds them. measurement_replacement through the `mask`
/// measurement is the same edit with one mask shared by every sample; this form serves masks
/// drawn per image (seeded strokes). z comes from the stream (seed, "constraint/noise", sample,
/// state index), or index 0 for every state with `fixed_noise`, as measurement_replacement
/// draws it, so the two agree on a shared mask (up to float rounding).
class mask_replacement final : public state_constraint {
public:
    mask_replacement(const process& p, tensor mask, tensor known, bool fixed_noise = false);

    tensor apply(const tensor& x, double t, std::uint64_t index, const sampling_context& ctx) const override;

private:
    const process& process_;
    tensor mask_, keep_, known_;
    bool fixed_noise_;
};

}  // namespace difflab
