// SPDX-License-Identifier: Apache-2.0
// The DDRM sampler: restoration from a linear measurement in the spectral space of its operator.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace difflab::plugins {

/// Denoising diffusion restoration models (Kawar, Elad, Ermon & Song 2022, eq. 7-8): samples
/// p(x | y) for y = H x + sigma_y n with an unconditional denoiser, in the coordinates of H's SVD
/// H = U diag(s) V^T (measurement.h). On the unscaled state x / alpha = x0 + sigma z (sigma the
/// noise level sigma / alpha of the process), with c = V^T (x / alpha), c0 = V^T x0 and
/// ybar = (U^T y) / s, a step from noise level sigma to sigma' sets each coefficient i by
///   s_i = 0 (unobserved):      c0 + sqrt(1 - eta^2) sigma' (c - c0) / sigma + eta sigma' z
///   sigma' s_i < sigma_y:      c0 + sqrt(1 - eta^2) sigma' (ybar - c0) s_i / sigma_y + eta sigma' z
///   sigma' s_i >= sigma_y:     eta_b ybar + (1 - eta_b) c0 + sqrt(sigma'^2 - eta_b^2 sigma_y^2 / s_i^2) z
/// and the last step lands on sigma' = 0. The start state's observed coefficients are drawn from
/// ybar + sqrt(sigma^2 - sigma_y^2 / s_i^2) z (the paper's q(x_T | y)); z = V^T of the step's
/// noise. sigma_y is the measurement's noise_std().
///
/// Where the reference code (bahjat-kawar/ddrm) differs, this follows the paper: a coefficient
/// with sigma' s_i = sigma_y belongs to the third case (the reference's strict inequalities
/// leave it to the first, so with sigma_y = 0 its final step returns c0 and H x = y does not
/// hold); the state is x / alpha times alpha (the reference divides the start by sigma_T);
/// singular values at or below 1e-10 max(s) count as unobserved, as measurement::pseudo_inverse
/// treats them. With sigma_y = 0 and eta_b = 1 the result satisfies H x = y exactly.
///
/// The observation comes from the task (sampling_context::observed); without one the sampler
/// refuses to run. It runs on every process with Gaussian marginals and follows paths and
/// constraints like any grid sampler: one denoiser evaluation per step.
class ddrm_sampler final : public sampler {
public:
    struct options : grid_options {
        options() : grid_options{20} {}
        double eta = 0.85;
        double eta_b = 1.0;
    };
    static param_spec<options> params();
    ddrm_sampler(const options& opts, build_context& ctx);

    std::vector<double> times(const process& p, double t_start) const override;
    std::unique_ptr<sampler_run> start(const denoiser& d, const sampling_context& ctx) const override;
    std::int64_t evaluations(const process&) const override { return opts_.steps; }
    bool inverts_observation() const override { return true; }

private:
    options opts_;
};

}  // namespace difflab::plugins
