// SPDX-License-Identifier: Apache-2.0
// The 'measurement' component kind: linear measurement operators y = H x (+ noise) and their SVD.
#pragma once

#include <difflab/plugin/component.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <vector>

namespace difflab {

/// A linear measurement y = H x + sigma_y n of an example x, the operator that conditioning acts
/// through: state replacement for inpainting (RePaint, Lugmayr et al. 2022), ILVR's low-pass swap
/// (Choi et al. 2021), reconstruction guidance, and DDRM's restoration in the spectral space of H
/// (Kawar et al. 2022, "Denoising diffusion restoration models").
///
/// H maps one example of example_shape() (D values: an image [C, H, W] or a point [D]) to a
/// measurement of measured_shape() (M <= D values). Every method takes a batch, dimension 0
/// indexing examples, and treats each example alone, so the result for example i does not depend
/// on the batch it came in; image operators apply the same 2-D operator to every channel.
/// Inputs may have any layout and be f32 or bf16; results are new contiguous f32 tensors. Nothing
/// is recorded by autograd: the gradient of ||y - H x||^2 / 2 with respect to x is H^T (H x - y),
/// which `adjoint` gives (backpropagate it with x.backward(gradient)).
///
/// The SVD is DDRM's: H = U diag(s) V^T, with U (M x M) and V (D x D) orthogonal and the M
/// singular values s in descending order (zeros allowed). V^T x has D spectral coefficients: the
/// first M pair with s, the last D - M span the rest of the null space of H. Hence
///     H x = U (s * (V^T x)[:M]),    H^T y = V [s * U^T y; 0],    H^+ y = V [s^+ * U^T y; 0].
///
/// Operators are built from YAML options before the data's shape is known; `bind` fixes the
/// shape and must come before every other method.
class measurement : public component {
public:
    static constexpr const char* kind_name = "measurement";
    using kind_type = measurement;

    /// Fixes the shape of one example and prepares the operator for it (its mask, matrices and
    /// SVD). Throws a config_error naming the operator, the shape and the fix when the operator
    /// cannot act on that shape (a height not divisible by the factor, a mask of another size);
    /// the operator is then unbound. May be called again with another shape.
    void bind(const shape_t& example_shape);
    bool bound() const { return !example_.empty(); }
    /// The bound example shape (D = its numel values).
    const shape_t& example_shape() const;
    /// The shape of one measurement (M = its numel values, M <= D).
    const shape_t& measured_shape() const;
    std::int64_t example_size() const;   ///< D
    std::int64_t measured_size() const;  ///< M
    /// The M singular values s of H, descending, zeros included.
    const std::vector<double>& singular_values() const;
    /// Standard deviation sigma_y of the Gaussian noise in y = H x + sigma_y n, n ~ N(0, I)
    /// (0: noiseless). The operator only reports it; whoever measures draws the noise.
    virtual double noise_std() const { return 0; }

    /// y = H x: [N, ...example] -> [N, ...measured].
    tensor apply(const tensor& x) const;
    /// x = H^T y: [N, ...measured] -> [N, ...example], so that <H x, y> = <x, H^T y>.
    tensor adjoint(const tensor& y) const;
    /// x = H^+ y (Moore-Penrose) = V [s^+ * U^T y; 0]: the least-norm x whose H x is nearest to
    /// y, with s^+ = 1 / s where s > 1e-10 max(s) and 0 for the singular values below (zero in
    /// double precision). [N, ...measured] -> [N, ...example].
    tensor pseudo_inverse(const tensor& y) const;
    /// V^T x: [N, ...example] -> [N, D] spectral coefficients.
    tensor v_transpose(const tensor& x) const;
    /// V c: [N, D] spectral coefficients -> [N, ...example].
    tensor v(const tensor& coefficients) const;
    /// U^T y: [N, ...measured] -> [N, M] coefficients, the i-th pairing with singular value i.
    tensor u_transpose(const tensor& y) const;
    /// U c: [N, M] coefficients -> [N, ...measured].
    tensor u(const tensor& coefficients) const;

protected:
    /// What an operator tells `bind` about a shape it accepts.
    struct binding {
        shape_t measured_shape;
        std::vector<double> singular_values;  ///< M of them, descending, >= 0
    };

private:
    /// Checks the example shape (a config_error "measurement 'name': what; fix" when the operator
    /// cannot act on it) and prepares the operator for it.
    virtual binding prepare(const shape_t& example_shape) = 0;

    // The public methods above, each given a contiguous f32 batch of the shape it documents
    // ([N, D] for do_v, [N, M] for do_u). Each returns its N results as a contiguous f32 tensor
    // of the documented number of values in any shape; the public method gives it its shape.
    virtual tensor do_apply(const tensor& x) const = 0;
    virtual tensor do_adjoint(const tensor& y) const = 0;
    /// Through the SVD unless an operator knows a shorter way.
    virtual tensor do_pseudo_inverse(const tensor& y) const;
    virtual tensor do_v_transpose(const tensor& x) const = 0;
    virtual tensor do_v(const tensor& coefficients) const = 0;
    virtual tensor do_u_transpose(const tensor& y) const = 0;
    virtual tensor do_u(const tensor& coefficients) const = 0;

    shape_t example_, measured_;
    std::vector<double> singular_;
};

/// Measurements y = H x + sigma_y n of the samples being drawn, one row per sample of the batch,
/// H bound to their shape: what a restoration sampler inverts itself (DDRM, Kawar et al. 2022;
/// sampling_context::observed). sigma_y is H's noise_std().
struct observation {
    const measurement* h = nullptr;
    tensor y;
};

}  // namespace difflab
