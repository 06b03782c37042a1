// SPDX-License-Identifier: Apache-2.0
// Separable image operators H = A_h (x) A_w on every channel, with their SVD from the 1-D factors.
#pragma once

#include <difflab/diffusion/measurement.h>

#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// An operator that acts on every channel X of an image [C, H, W] as A_h X A_w^T, with an
/// m x n matrix per axis (m <= n): resizing and blurring. Its SVD follows from the 1-D SVDs
/// A = U_a diag(s_a) V_a^T (Eigen's BDCSVD in double), as DDRM's deblurring and
/// super-resolution operators do (Kawar et al. 2022): V = V_h (x) V_w, U = U_h (x) U_w, and the
/// singular values are the products s_h[i] s_w[j], one per channel and pair (i < m_h, j < m_w).
///
/// Order: the C m_h m_w singular values are sorted descending, ties in the row-major order of
/// (channel, i, j); U^T y and the first M coefficients of V^T x follow that order, and the last
/// D - M coefficients of V^T x are the pairs with i >= m_h or j >= m_w, in row-major order of
/// (channel, i, j). With a `cutoff`, 1-D singular values below it become 0 and the operator is
/// the truncated U diag(s) V^T everywhere (H, H^T, H^+ and the SVD agree), as DDRM's Deblurring.
class separable_measurement : public measurement {
protected:
    /// The m x n matrix (m <= n) along an axis of length n of the examples `example`; throws a
    /// config_error naming the operator and the fix when it cannot act on that length.
    virtual Eigen::MatrixXd axis_matrix(std::int64_t length, const shape_t& example) const = 0;
    /// "measurement 'resize'", for messages.
    virtual std::string label() const = 0;
    /// 1-D singular values below this are set to zero.
    virtual double cutoff() const { return 0.0; }

private:
    /// One axis: the matrix, its transpose and its full SVD.
    struct axis {
        Eigen::MatrixXd a, at, u, ut, v, vt;
        Eigen::VectorXd s;
    };
    axis make_axis(std::int64_t length, const shape_t& example) const;

    binding prepare(const shape_t& example_shape) override;
    tensor do_apply(const tensor& x) const override;
    tensor do_adjoint(const tensor& y) const override;
    tensor do_v_transpose(const tensor& x) const override;
    tensor do_v(const tensor& coefficients) const override;
    tensor do_u_transpose(const tensor& y) const override;
    tensor do_u(const tensor& coefficients) const override;

    axis rows_, cols_;
    std::int64_t channels_ = 0;
    std::vector<std::int64_t> u_entry_;  ///< coefficient r of U^T y: its entry of U_h^T Y U_w [C, m_h, m_w]
    std::vector<std::int64_t> v_entry_;  ///< coefficient r of V^T x: its entry of V_h^T X V_w [C, n_h, n_w]
};

}  // namespace difflab::plugins
