// SPDX-License-Identifier: Apache-2.0
// Conditioning on a linear measurement.
#include <difflab/diffusion/measurement_conditioning.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/tensor/ops.h>

namespace difflab {

measurement_replacement::measurement_replacement(const process& p, const measurement& h, tensor y, bool fixed_noise)
    : process_(p), h_(h), y_(std::move(y)), fixed_noise_(fixed_noise) {}

tensor measurement_replacement::apply(const tensor& x, double t, std::uint64_t index,
                                      const sampling_context& ctx) const {
    const tensor z = ctx.draw(x, "constraint/noise", fixed_noise_ ? 0 : index);
    const tensor y_t = y_ * process_.alpha(t) + h_.apply(z) * process_.sigma(t);
    return x + h_.pseudo_inverse(y_t - h_.apply(x));
}

measurement_projection::measurement_projection(const denoiser& inner, const measurement& h, tensor y)
    : denoiser(inner.diffusion_process()), inner_(inner), h_(h), y_(std::move(y)) {}

tensor measurement_projection::denoise(const tensor& x, double t) const {
    const tensor x0 = inner_.x0(x, t);
    return x0 + h_.pseudo_inverse(y_ - h_.apply(x0));
}

reconstruction_guidance::reconstruction_guidance(const denoiser& inner, const measurement& h, tensor y,
                                                 guidance_schedule schedule)
    : denoiser(inner.diffusion_process()), inner_(inner), h_(h), y_(std::move(y)), schedule_(std::move(schedule)) {}

tensor reconstruction_guidance::denoise(const tensor& x, double t) const {
    const double w = schedule_.at(t);
    const tensor x0 = inner_.x0(x, t);
    if (w == 0) return x0;
    const tensor pull = inner_.x0_vjp(x, t, h_.adjoint(y_ - h_.apply(x0)));
    return x0 + pull * (w * diffusion_process().alpha(t));
}

}  // namespace difflab
