// SPDX-License-Identifier: Apache-2.0
// The 'block_average' measurement: the mean of every k x k block (super-resolution).
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>

namespace difflab::plugins {

/// The super-resolution operator of SR3 (Saharia et al. 2022) and DDRM (Kawar et al. 2022): the
/// mean of every k x k block of every channel, [C, H, W] -> [C, H / k, W / k].
///
/// Its SVD is closed-form. The row of H for a block is 1/k^2 on the block's k^2 pixels, of norm
/// 1/k, and rows of different blocks are orthogonal: every singular value is 1/k and U = I.
/// V^T x first lists the normalized block sums (sum / k, in y's row-major order), then, block by
/// block in the same order, the block's k^2 - 1 coordinates in an orthonormal complement of the
/// constant: those of the Householder reflection Q = I - 2 w w^T / (w^T w), w = e_1 - 1/k, which
/// is symmetric and orthogonal with first row the constant 1/k. H^+ = k^2 H^T repeats each
/// measured value over its block (nearest-neighbour upsampling).
class block_average_measurement final : public measurement {
public:
    struct options {
        std::int64_t factor = 4;
        double noise_std = 0.0;
    };
    static param_spec<options> params();
    block_average_measurement(const options& opts, build_context& ctx);

    double noise_std() const override { return opts_.noise_std; }

private:
    binding prepare(const shape_t& example_shape) override;
    tensor do_apply(const tensor& x) const override;
    tensor do_adjoint(const tensor& y) const override;
    tensor do_pseudo_inverse(const tensor& y) const override;
    tensor do_v_transpose(const tensor& x) const override;
    tensor do_v(const tensor& coefficients) const override;
    tensor do_u_transpose(const tensor& y) const override { return y.clone(); }
    tensor do_u(const tensor& coefficients) const override { return coefficients.clone(); }

    /// x at (c, i k + a, j k + b) over the blocks (c, i, j) of each example and their pixels
    /// (a, b): visit(example, block, pixel in block, entry of x).
    template <class Visit>
    void each_pixel(std::int64_t n, Visit visit) const;

    options opts_;
    std::int64_t channels_ = 0, height_ = 0, width_ = 0;
};

}  // namespace difflab::plugins
