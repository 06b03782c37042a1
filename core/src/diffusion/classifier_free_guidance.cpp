// SPDX-License-Identifier: Apache-2.0
// Classifier-free guidance over two denoisers.
#include <difflab/base/error.h>
#include <difflab/diffusion/classifier_free_guidance.h>
#include <difflab/tensor/ops.h>

namespace difflab {

classifier_free_guidance::classifier_free_guidance(const denoiser& conditional, const denoiser& unconditional,
                                                   guidance_schedule schedule)
    : denoiser(conditional.diffusion_process()),
      conditional_(conditional),
      unconditional_(unconditional),
      schedule_(std::move(schedule)) {
    if (&conditional.diffusion_process() != &unconditional.diffusion_process())
        throw error("classifier-free guidance needs its two denoisers on the same process");
}

tensor classifier_free_guidance::denoise(const tensor& x, double t) const {
    const double w = schedule_.active(t) ? schedule_.at(t) : 1.0;  // outside the window: the conditional model
    const tensor conditional = conditional_.x0(x, t);
    if (w == 1.0) return conditional;
    const tensor unconditional = unconditional_.x0(x, t);
    return unconditional + (conditional - unconditional) * w;
}

}  // namespace difflab
