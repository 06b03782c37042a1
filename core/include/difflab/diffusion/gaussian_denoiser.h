// SPDX-License-Identifier: Apache-2.0
// The exact denoiser of isotropic Gaussian data, with the closed-form probability-flow ODE.
#pragma once

#include <difflab/diffusion/denoiser.h>

namespace difflab {

/// Data N(0, v I): E[x0 | x_t] = alpha v / m(t) x with m = alpha^2 v + sigma^2, for any process.
/// Its probability-flow ODE dx/dt = f x - g^2 score / 2 has the solution x(t) proportional to
/// sqrt(m(t)) (since m' = 2 f m + g^2), so solvers can be checked against the exact
/// trajectory from the same x_T — the known answer for convergence orders.
class gaussian_denoiser final : public denoiser {
public:
    gaussian_denoiser(const process& p, double variance) : denoiser(p), variance_(variance) {}

    /// m(t) = alpha^2 v + sigma^2, the variance of x_t.
    double marginal_variance(double t) const;
    /// The exact probability-flow ODE solution at s from x at t.
    tensor ode_solution(const tensor& x, double t, double s) const;

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    double variance_;
};

}  // namespace difflab
