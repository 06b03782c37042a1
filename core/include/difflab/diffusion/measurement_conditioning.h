// SPDX-License-Identifier: Apache-2.0
// Conditioning on a linear measurement y = H x0: state replacement, x0-estimate projection, reconstruction guidance.
#pragma once

#include <difflab/diffusion/constraint.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/guidance_schedule.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/tensor/tensor.h>

namespace difflab {

/// Replacement of the measured part of the state at the state's own noise level: with
///     y_t = alpha(t) y + sigma(t) H z,    x' = x + H^+ (y_t - H x),
/// the part of x that H sees becomes that of a draw from q(x_t | x0) with H x0 = y, and the rest
/// (the null space of H) is the sampler's. For a 0/1 mask this is replacement inpainting
/// (Song et al. 2021; Lugmayr et al. 2022, RePaint): x' = (1 - m) x + m (alpha y + sigma z);
/// for a resize pair it is ILVR's low-pass swap x' = x - phi(x) + phi(y_t) with phi = H^+ H
/// (Choi et al. 2021). follow_path applies it to the state at time t itself, so the known part
/// enters at the level of the state it joins (ILVR, SDEdit and score_sde's inpainter are one
/// step off). The noise z is drawn afresh for every state (stream "constraint/noise", the
/// state's index) or, `fixed_noise`, once for the whole path (index 0), as SDEdit keeps its
/// draw. The measurement's own noise (noise_std) is not modelled here: DDRM does that.
class measurement_replacement final : public state_constraint {
public:
    /// `y`: one measurement per sample of the batches this will see, H bound to their shape.
    measurement_replacement(const process& p, const measurement& h, tensor y, bool fixed_noise = false);

    tensor apply(const tensor& x, double t, std::uint64_t index, const sampling_context& ctx) const override;

private:
    const process& process_;
    const measurement& h_;
    tensor y_;
    bool fixed_noise_;
};

/// The x0-estimate edit: x0' = x0 + H^+ (y - H x0), the denoised estimate with its measured part
/// replaced by the measurement (the range-null-space decomposition of Wang et al. 2023, DDNM;
/// latent-diffusion's DDIM replaces the state instead). A denoiser wrapper: every sampler then
/// steps towards estimates consistent with y.
class measurement_projection final : public denoiser {
public:
    measurement_projection(const denoiser& inner, const measurement& h, tensor y);

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    const denoiser& inner_;
    const measurement& h_;
    tensor y_;
};

/// Reconstruction guidance (Ho et al. 2022, Video Diffusion Models, eq. 7):
///     x0' = x0 - (w alpha / 2) grad_x ||y - H x0(x)||^2 = x0 + w alpha J^T H^T (y - H x0),
/// J = d x0 / d x the denoiser's Jacobian (denoiser::x0_vjp), w the schedule's scale at t. Ho et
/// al. condition video frames on earlier ones this way (H selects the known frames); any linear
/// measurement works. Two evaluations per step: the estimate and its vector-Jacobian product.
class reconstruction_guidance final : public denoiser {
public:
    reconstruction_guidance(const denoiser& inner, const measurement& h, tensor y, guidance_schedule schedule);

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    const denoiser& inner_;
    const measurement& h_;
    tensor y_;
    guidance_schedule schedule_;
};

}  // namespace difflab
