// SPDX-License-Identifier: Apache-2.0
// Separable image operators and their SVD from the 1-D factors.
#include "separable_measurement.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <Eigen/SVD>
#include <algorithm>
#include <cstddef>
#include <numeric>

#include "measurement_common.h"

namespace difflab::plugins {

namespace {

using row_major_d = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using row_major_f = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// out = left * X * right^T for each of the `count` row-major matrices X (left.cols() x
// right.cols()) in `in`, in double; `out` holds count matrices of left.rows() x right.rows().
tensor two_sided(const tensor& in, std::int64_t count, const Eigen::MatrixXd& left, const Eigen::MatrixXd& right) {
    const Eigen::Index rows = left.cols(), cols = right.cols(), out_rows = left.rows(), out_cols = right.rows();
    tensor out = tensor::empty({count, out_rows, out_cols});
    const float* x = in.data<float>();
    float* y = out.data<float>();
    for (std::int64_t s = 0; s < count; ++s) {
        const Eigen::Map<const row_major_f> slice(x + s * rows * cols, rows, cols);
        const row_major_d product = left * slice.cast<double>() * right.transpose();
        Eigen::Map<row_major_f>(y + s * out_rows * out_cols, out_rows, out_cols) = product.cast<float>();
    }
    return out;
}

// Coefficients picked from `from` ([N, size] values) at `entries`, or scattered back into zeros.
tensor gather(const tensor& from, std::int64_t n, std::int64_t size, const std::vector<std::int64_t>& entries) {
    const auto count = static_cast<std::int64_t>(entries.size());
    tensor out = tensor::empty({n, count});
    const float* in = from.data<float>();
    float* o = out.data<float>();
    for (std::int64_t e = 0; e < n; ++e)
        for (std::int64_t r = 0; r < count; ++r) o[e * count + r] = in[e * size + entries[static_cast<std::size_t>(r)]];
    return out;
}

tensor scatter(const tensor& from, std::int64_t n, std::int64_t size, const std::vector<std::int64_t>& entries) {
    const auto count = static_cast<std::int64_t>(entries.size());
    tensor out = tensor::zeros({n, size});
    const float* in = from.data<float>();
    float* o = out.data<float>();
    for (std::int64_t e = 0; e < n; ++e)
        for (std::int64_t r = 0; r < count; ++r) o[e * size + entries[static_cast<std::size_t>(r)]] = in[e * count + r];
    return out;
}

}  // namespace

separable_measurement::axis separable_measurement::make_axis(std::int64_t length, const shape_t& example) const {
    axis ax;
    ax.a = axis_matrix(length, example);
    if (ax.a.cols() != length || ax.a.rows() < 1 || ax.a.rows() > length)
        throw error(
            fmt::format("{}: its matrix for an axis of length {} is {}x{}; the operator is wrong (it needs m x "
                        "{} with 1 <= m <= {})",
                        label(), length, ax.a.rows(), ax.a.cols(), length, length));
    const Eigen::BDCSVD<Eigen::MatrixXd> svd(ax.a, Eigen::ComputeFullU | Eigen::ComputeFullV);
    ax.u = svd.matrixU();
    ax.v = svd.matrixV();
    ax.s = svd.singularValues();
    if (cutoff() > 0 && (ax.s.array() < cutoff()).any()) {
        // The operator becomes its truncated SVD, so that H and its SVD stay one operator.
        ax.s = (ax.s.array() < cutoff()).select(0.0, ax.s);
        const Eigen::Index m = ax.a.rows();
        ax.a = ax.u * ax.s.asDiagonal() * ax.v.leftCols(m).transpose();
    }
    ax.at = ax.a.transpose();
    ax.ut = ax.u.transpose();
    ax.vt = ax.v.transpose();
    return ax;
}

measurement::binding separable_measurement::prepare(const shape_t& example_shape) {
    const image_size image = image_example(example_shape, label());
    rows_ = make_axis(image.height, example_shape);
    cols_ = make_axis(image.width, example_shape);
    channels_ = image.channels;
    const std::int64_t mh = rows_.a.rows(), mw = cols_.a.rows(), nh = image.height, nw = image.width;

    // The products s_h[i] s_w[j] for every (channel, i, j), sorted descending, ties kept in order.
    std::vector<std::int64_t> order(static_cast<std::size_t>(channels_ * mh * mw));
    std::iota(order.begin(), order.end(), 0);
    auto product = [&](std::int64_t entry) { return rows_.s[(entry / mw) % mh] * cols_.s[entry % mw]; };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return product(a) > product(b); });
    u_entry_ = order;
    v_entry_.clear();
    std::vector<double> singular;
    for (std::int64_t entry : order) {
        const std::int64_t c = entry / (mh * mw), i = (entry / mw) % mh, j = entry % mw;
        v_entry_.push_back((c * nh + i) * nw + j);
        singular.push_back(product(entry));
    }
    for (std::int64_t c = 0; c < channels_; ++c)
        for (std::int64_t i = 0; i < nh; ++i)
            for (std::int64_t j = 0; j < nw; ++j)
                if (i >= mh || j >= mw) v_entry_.push_back((c * nh + i) * nw + j);
    return {{channels_, mh, mw}, singular};
}

tensor separable_measurement::do_apply(const tensor& x) const {
    return two_sided(x, x.size(0) * channels_, rows_.a, cols_.a);
}

tensor separable_measurement::do_adjoint(const tensor& y) const {
    return two_sided(y, y.size(0) * channels_, rows_.at, cols_.at);
}

tensor separable_measurement::do_v_transpose(const tensor& x) const {
    // V^T x = V_h^T X V_w per channel, then the coefficients in spectral order.
    const tensor z = two_sided(x, x.size(0) * channels_, rows_.vt, cols_.vt);
    return gather(z, x.size(0), example_size(), v_entry_);
}

tensor separable_measurement::do_v(const tensor& coefficients) const {
    const std::int64_t n = coefficients.size(0);
    const tensor z = scatter(coefficients, n, example_size(), v_entry_);
    return two_sided(z, n * channels_, rows_.v, cols_.v);
}

tensor separable_measurement::do_u_transpose(const tensor& y) const {
    const tensor w = two_sided(y, y.size(0) * channels_, rows_.ut, cols_.ut);
    return gather(w, y.size(0), measured_size(), u_entry_);
}

tensor separable_measurement::do_u(const tensor& coefficients) const {
    const std::int64_t n = coefficients.size(0);
    const tensor w = scatter(coefficients, n, measured_size(), u_entry_);
    return two_sided(w, n * channels_, rows_.u, cols_.u);
}

}  // namespace difflab::plugins
