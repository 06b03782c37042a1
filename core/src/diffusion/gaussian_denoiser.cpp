// SPDX-License-Identifier: Apache-2.0
// The exact denoiser of isotropic Gaussian data.
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>

#include <cmath>

namespace difflab {

double gaussian_denoiser::marginal_variance(double t) const {
    const double a = diffusion_process().alpha(t), s = diffusion_process().sigma(t);
    return a * a * variance_ + s * s;
}

tensor gaussian_denoiser::ode_solution(const tensor& x, double t, double s) const {
    return x * static_cast<float>(std::sqrt(marginal_variance(s) / marginal_variance(t)));
}

tensor gaussian_denoiser::denoise(const tensor& x, double t) const {
    return x * static_cast<float>(diffusion_process().alpha(t) * variance_ / marginal_variance(t));
}

}  // namespace difflab
