// SPDX-License-Identifier: Apache-2.0
// Replacement inpainting with a mask per sample.
#include <difflab/base/error.h>
#include <difflab/diffusion/mask_replacement.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

namespace difflab {

mask_replacement::mask_replacement(const process& p, tensor mask, tensor known, bool fixed_noise)
    : process_(p), mask_(std::move(mask)), known_(std::move(known)), fixed_noise_(fixed_noise) {
    if (!mask_.defined() || !known_.defined() || mask_.dim() != known_.dim() || mask_.size(0) != known_.size(0))
        throw error(fmt::format("mask_replacement: a mask [N, 1 or C, ...] per known image [N, C, ...], got {} and {}",
                                mask_.defined() ? shape_text(mask_.shape()) : "none",
                                known_.defined() ? shape_text(known_.shape()) : "none"));
    keep_ = mask_ * -1.0f + 1.0f;
}

tensor mask_replacement::apply(const tensor& x, double t, std::uint64_t index, const sampling_context& ctx) const {
    const tensor z = ctx.draw(x, "constraint/noise", fixed_noise_ ? 0 : index);
    const tensor known_t = known_ * static_cast<float>(process_.alpha(t)) + z * static_cast<float>(process_.sigma(t));
    return x * keep_ + known_t * mask_;
}

}  // namespace difflab
