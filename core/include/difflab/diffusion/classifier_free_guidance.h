// SPDX-License-Identifier: Apache-2.0
// Classifier-free guidance of any conditional denoiser by its unconditional counterpart.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/guidance_schedule.h>

namespace difflab {

/// Classifier-free guidance (Ho & Salimans 2022) over two denoisers of the same process, in x0
/// space (affine-equivalent to guiding eps):
///     x0 = x0_uncond + w(t) (x0_cond - x0_uncond),
/// w from the schedule (1 outside its window, where guidance is off; Kynkäänniemi et al. 2024
/// guide only in an interval): w = 1 is the conditional model, 0 the unconditional one, w > 1 guides
/// (latent-diffusion's convention s = w; Ho & Salimans write w' = w - 1). At w(t) = 1 only the
/// conditional denoiser runs. For exact denoisers (the oracles) and any pair of models; a
/// network trained with label dropout batches both passes into one call instead
/// (guided_denoiser, guidance.h).
class classifier_free_guidance final : public denoiser {
public:
    classifier_free_guidance(const denoiser& conditional, const denoiser& unconditional, guidance_schedule schedule);

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    const denoiser& conditional_;
    const denoiser& unconditional_;
    guidance_schedule schedule_;
};

}  // namespace difflab
