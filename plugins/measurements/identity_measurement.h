// SPDX-License-Identifier: Apache-2.0
// The 'identity' measurement: y = x + sigma_y n, for denoising.
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

namespace difflab::plugins {

/// H = I on examples of any shape, so y = x + sigma_y n: the denoising problem of DDRM (Kawar et
/// al. 2022, section 4) and the noisy starting point that DiffPure (Nie et al. 2022) purifies.
/// U = V = I and every singular value is 1; H^T = H^+ = I.
class identity_measurement final : public measurement {
public:
    struct options {
        double noise_std = 0.0;
    };
    static param_spec<options> params();
    identity_measurement(const options& opts, build_context& ctx);

    double noise_std() const override { return opts_.noise_std; }

private:
    binding prepare(const shape_t& example_shape) override;
    tensor do_apply(const tensor& x) const override { return x.clone(); }
    tensor do_adjoint(const tensor& y) const override { return y.clone(); }
    tensor do_pseudo_inverse(const tensor& y) const override { return y.clone(); }
    tensor do_v_transpose(const tensor& x) const override { return x.clone(); }
    tensor do_v(const tensor& coefficients) const override { return coefficients.clone(); }
    tensor do_u_transpose(const tensor& y) const override { return y.clone(); }
    tensor do_u(const tensor& coefficients) const override { return coefficients.clone(); }

    options opts_;
};

}  // namespace difflab::plugins
