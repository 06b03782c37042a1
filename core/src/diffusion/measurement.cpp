// SPDX-License-Identifier: Apache-2.0
// The measurement kind's shape checks around its operators, and H^+ through the SVD.
#include <difflab/base/error.h>
#include <difflab/diffusion/measurement.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace difflab {

namespace {

const char* const not_bound =
    "measurement: the operator is not bound to an example shape; call bind(example_shape) first";

// The batch as contiguous f32, after checking that it is [N, ...per_example].
tensor batch_of(const tensor& t, const shape_t& per_example, const char* method, const char* what) {
    if (!t.defined()) throw error(fmt::format("measurement: {} got an undefined tensor; pass {}", method, what));
    const shape_t& shape = t.shape();
    const bool fits =
        shape.size() == per_example.size() + 1 && std::equal(per_example.begin(), per_example.end(), shape.begin() + 1);
    if (!fits) {
        std::string expected = "[N";
        for (std::int64_t size : per_example) expected += ", " + std::to_string(size);
        throw error(fmt::format("measurement: {} got {} of shape {}; pass a batch of shape {}", method, what,
                                shape_text(shape), expected + "]"));
    }
    tensor f32 = t.type() == dtype::f32 ? t.detach() : t.detach().to(dtype::f32);
    return f32.contiguous();
}

// An operator's result, checked for its number of values and given the shape [N, ...per_example].
tensor shaped(const tensor& result, std::int64_t n, const shape_t& per_example, const char* method) {
    shape_t shape{n};
    shape.insert(shape.end(), per_example.begin(), per_example.end());
    if (!result.defined() || result.type() != dtype::f32 || result.numel() != shape_numel(shape))
        throw error(
            fmt::format("measurement: the operator's {} returned {} values for a batch of shape {}; the "
                        "operator is wrong (it must return N x {} f32 values)",
                        method, result.defined() ? result.numel() : 0, shape_text(shape), shape_numel(per_example)));
    return result.contiguous().view(shape);
}

}  // namespace

void measurement::bind(const shape_t& example_shape) {
    example_.clear();
    measured_.clear();
    singular_.clear();
    if (example_shape.empty() || shape_numel(example_shape) <= 0)
        throw config_error(
            fmt::format("measurement: cannot bind to the example shape {}; examples need at least one "
                        "dimension and one value",
                        shape_text(example_shape)));
    binding b = prepare(example_shape);
    const std::int64_t d = shape_numel(example_shape), m = shape_numel(b.measured_shape);
    bool ordered = true;
    for (std::size_t i = 0; i < b.singular_values.size(); ++i)
        ordered = ordered && std::isfinite(b.singular_values[i]) && b.singular_values[i] >= 0 &&
                  (i == 0 || b.singular_values[i] <= b.singular_values[i - 1]);
    if (b.measured_shape.empty() || m <= 0 || m > d || static_cast<std::int64_t>(b.singular_values.size()) != m ||
        !ordered)
        throw error(
            fmt::format("measurement: the operator bound to {} measures shape {} with {} singular values; the "
                        "operator is wrong (it needs 0 < M <= D and M finite singular values, descending, >= 0)",
                        shape_text(example_shape), shape_text(b.measured_shape), b.singular_values.size()));
    example_ = example_shape;
    measured_ = std::move(b.measured_shape);
    singular_ = std::move(b.singular_values);
}

const shape_t& measurement::example_shape() const {
    if (!bound()) throw error(not_bound);
    return example_;
}

const shape_t& measurement::measured_shape() const {
    if (!bound()) throw error(not_bound);
    return measured_;
}

std::int64_t measurement::example_size() const {
    return shape_numel(example_shape());
}

std::int64_t measurement::measured_size() const {
    return shape_numel(measured_shape());
}

const std::vector<double>& measurement::singular_values() const {
    if (!bound()) throw error(not_bound);
    return singular_;
}

tensor measurement::apply(const tensor& x) const {
    const tensor in = batch_of(x, example_shape(), "apply", "examples x");
    return shaped(do_apply(in), in.size(0), measured_, "apply");
}

tensor measurement::adjoint(const tensor& y) const {
    const tensor in = batch_of(y, measured_shape(), "adjoint", "measurements y");
    return shaped(do_adjoint(in), in.size(0), example_, "adjoint");
}

tensor measurement::pseudo_inverse(const tensor& y) const {
    const tensor in = batch_of(y, measured_shape(), "pseudo_inverse", "measurements y");
    return shaped(do_pseudo_inverse(in), in.size(0), example_, "pseudo_inverse");
}

tensor measurement::v_transpose(const tensor& x) const {
    const tensor in = batch_of(x, example_shape(), "v_transpose", "examples x");
    return shaped(do_v_transpose(in), in.size(0), {example_size()}, "v_transpose");
}

tensor measurement::v(const tensor& coefficients) const {
    const tensor in = batch_of(coefficients, {example_size()}, "v", "spectral coefficients");
    return shaped(do_v(in), in.size(0), example_, "v");
}

tensor measurement::u_transpose(const tensor& y) const {
    const tensor in = batch_of(y, measured_shape(), "u_transpose", "measurements y");
    return shaped(do_u_transpose(in), in.size(0), {measured_size()}, "u_transpose");
}

tensor measurement::u(const tensor& coefficients) const {
    const tensor in = batch_of(coefficients, {measured_size()}, "u", "coefficients");
    return shaped(do_u(in), in.size(0), measured_, "u");
}

tensor measurement::do_pseudo_inverse(const tensor& y) const {
    // V [s^+ * U^T y; 0], with singular values below 1e-10 of the largest taken as zero.
    const std::int64_t n = y.size(0), m = measured_size(), d = example_size();
    const tensor coefficients = shaped(do_u_transpose(y), n, {m}, "u_transpose");
    const double largest = singular_.empty() ? 0.0 : singular_.front();
    std::vector<double> inverse(singular_.size());
    for (std::size_t i = 0; i < singular_.size(); ++i)
        inverse[i] = singular_[i] > 1e-10 * largest ? 1.0 / singular_[i] : 0.0;
    tensor padded = tensor::zeros({n, d});
    const float* in = coefficients.data<float>();
    float* out = padded.data<float>();
    for (std::int64_t e = 0; e < n; ++e)
        for (std::int64_t i = 0; i < m; ++i)
            out[e * d + i] = static_cast<float>(in[e * m + i] * inverse[static_cast<std::size_t>(i)]);
    return do_v(padded);
}

}  // namespace difflab
