// SPDX-License-Identifier: Apache-2.0
// One-step discretizations of the reverse-time SDE (Song et al. 2021).
#include "reverse_sde_steps.h"

#include <difflab/tensor/ops.h>

#include <algorithm>
#include <cmath>

namespace difflab::plugins {

tensor euler_maruyama_step(const process& p, const tensor& x, const tensor& score, double t, double s,
                           const tensor& z) {
    const double dt = t - s, g = p.diffusion(t);  // dt > 0: time runs backwards
    const tensor drift = x * static_cast<float>(p.drift(t)) - score * static_cast<float>(g * g);
    return x - drift * static_cast<float>(dt) + z * static_cast<float>(g * std::sqrt(dt));
}

tensor reverse_diffusion_step(const process& p, const tensor& x, const tensor& score, double t, double s,
                              const tensor& z) {
    const double a = p.alpha(t) / p.alpha(s), sigma_t = p.sigma(t), sigma_s = p.sigma(s);
    // Clamped at 0: rounding can make it slightly negative when t and s are very close.
    const double g2 = std::max(sigma_t * sigma_t - a * a * sigma_s * sigma_s, 0.0);
    return x * static_cast<float>(2 - a) + score * static_cast<float>(g2) + z * static_cast<float>(std::sqrt(g2));
}

}  // namespace difflab::plugins
