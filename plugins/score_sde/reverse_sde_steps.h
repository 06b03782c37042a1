// SPDX-License-Identifier: Apache-2.0
// One-step discretizations of the reverse-time SDE, shared by the Euler-Maruyama and PC samplers.
#pragma once

#include <difflab/diffusion/process.h>
#include <difflab/tensor/tensor.h>

namespace difflab::plugins {

/// One Euler-Maruyama step of the reverse-time SDE dx = [f x - g^2 score] dt + g dw (Song et al.
/// 2021, eq. 6) from x at t down to s < t, with the score at (x, t) and N(0, I) noise z:
///     x_s = x - (f(t) x - g(t)^2 score) (t - s) + g(t) sqrt(t - s) z.
tensor euler_maruyama_step(const process& p, const tensor& x, const tensor& score, double t, double s, const tensor& z);

/// One step of score_sde's reverse-diffusion predictor (Song et al. 2021, eq. 46 and
/// ReverseDiffusionPredictor): the forward step from s to t is x_t = a x_s + G z with
/// a = alpha(t) / alpha(s) and G^2 = sigma(t)^2 - a^2 sigma(s)^2, and its reverse is
///     x_s = x - (a - 1) x + G^2 score + G z
/// (the ancestral step of DDPM for VP, of NCSN for VE, for any process on any grid).
tensor reverse_diffusion_step(const process& p, const tensor& x, const tensor& score, double t, double s,
                              const tensor& z);

}  // namespace difflab::plugins
