// SPDX-License-Identifier: Apache-2.0
// Mixed precision: the dtype that convolutions and matrix products compute in.
#pragma once

#include <difflab/tensor/tensor.h>

#include <string>

namespace difflab {

/// The dtype in which convolutions, matrix products (linear, matmul) and attention compute on
/// f32 operands: f32, unless a precision_scope asks for bf16. Under bf16 those ops round their
/// f32 activations and weights to bf16, accumulate in f32 and write f32 results (oneDNN's
/// AVX512_BF16 kernels run at twice the fp32 rate), while normalizations, softmax, pointwise
/// ops, losses, parameters, gradients and optimizer state stay f32: mixed-precision training
/// with f32 master weights (Micikevicius et al. 2018, "Mixed precision training"; Kalamkar et
/// al. 2019, "A study of BFLOAT16 for deep learning training"). bf16 keeps f32's exponent
/// range, so no loss scaling is needed. A backward runs in the precision its forward ran in
/// (autograd records it), wherever backward() is called. Per thread.
dtype compute_precision();

/// Sets compute_precision() for its scope (nested scopes restore the outer one).
class precision_scope {
public:
    explicit precision_scope(dtype compute);
    ~precision_scope();
    precision_scope(const precision_scope&) = delete;
    precision_scope& operator=(const precision_scope&) = delete;

private:
    dtype previous_;
};

/// The `precision` value of an experiment: "fp32" -> f32, "bf16" -> bf16; anything else throws.
dtype parse_precision(const std::string& name);

}  // namespace difflab
