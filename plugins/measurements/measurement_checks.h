// SPDX-License-Identifier: Apache-2.0
// Test support: the algebra every measurement operator must satisfy, checked against dense matrices.
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace difflab::plugins::checks {

using matrix = Eigen::MatrixXd;

/// Operator T built from YAML options as the registry would (seed 0), bound to `example`.
template <class T>
std::unique_ptr<T> bound(const std::string& yaml, const shape_t& example) {
    auto op =
        std::make_unique<T>(T::params().parse(parse_yaml(yaml, "test.yaml"), parse_context()), testing::test_context());
    op->bind(example);
    return op;
}

inline shape_t batch_shape(std::int64_t n, const shape_t& per_example) {
    shape_t shape{n};
    shape.insert(shape.end(), per_example.begin(), per_example.end());
    return shape;
}

/// N(0, 1) examples [n, ...per_example].
inline tensor random_batch(std::int64_t n, const shape_t& per_example, std::uint64_t seed) {
    return randn(batch_shape(n, per_example), seed, random_purpose("test/measurement"));
}

/// A linear map of batches [K, ...in] as a dense matrix: column i is f(e_i), flattened.
inline matrix dense(const shape_t& in, const std::function<tensor(const tensor&)>& f) {
    const std::int64_t k = shape_numel(in);
    std::vector<float> unit(static_cast<std::size_t>(k * k), 0.0f);
    for (std::int64_t i = 0; i < k; ++i) unit[static_cast<std::size_t>(i * k + i)] = 1.0f;
    const std::vector<float> out = f(tensor::from_vector(batch_shape(k, in), unit)).to_vector();
    const std::int64_t rows = static_cast<std::int64_t>(out.size()) / k;
    matrix m(rows, k);
    for (std::int64_t i = 0; i < k; ++i)
        for (std::int64_t r = 0; r < rows; ++r) m(r, i) = out[static_cast<std::size_t>(i * rows + r)];
    return m;
}

inline matrix dense_h(const measurement& h) {
    return dense(h.example_shape(), [&](const tensor& x) { return h.apply(x); });
}

/// [N, width] rows c[:, :s.size()] * s, zero beyond.
inline tensor scaled(const tensor& c, const std::vector<double>& s, std::int64_t width) {
    const std::int64_t n = c.size(0), in_width = c.size(1);
    const std::vector<float> values = c.contiguous().to_vector();
    std::vector<float> out(static_cast<std::size_t>(n * width), 0.0f);
    for (std::int64_t e = 0; e < n; ++e)
        for (std::size_t i = 0; i < s.size(); ++i)
            out[static_cast<std::size_t>(e * width) + i] =
                static_cast<float>(values[static_cast<std::size_t>(e * in_width) + i] * s[i]);
    return tensor::from_vector({n, width}, out);
}

inline double dot(const tensor& a, const tensor& b) {
    const std::vector<float> x = a.contiguous().to_vector(), y = b.contiguous().to_vector();
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) sum += static_cast<double>(x[i]) * y[i];
    return sum;
}

/// max |a - b| / max |b| over two dense matrices.
inline double relative(const matrix& a, const matrix& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return 1e30;
    return (a - b).cwiseAbs().maxCoeff() / std::max(b.cwiseAbs().maxCoeff(), 1e-30);
}

/// Example `i` of a batch.
inline tensor row(const tensor& batch, std::int64_t i) {
    return batch.slice(0, i, i + 1);
}

/// Every identity of the kind's contract on a bound operator, with random batches of 3:
///   H x = U (s * (V^T x)[:M]) and H^T y = V [s * U^T y; 0] (to 1e-5 relative);
///   V^T V = V V^T = I and U^T U = U U^T = I on batches;
///   <H x, y> = <x, H^T y>;
///   the singular values are those of the dense H, descending;
///   H H^+ (H x) = H x, H^+ H idempotent and symmetric, and H^+ equal to H^T (H H^T)^-1 (full
///   row rank) or to the dense pseudo-inverse, within 1e-5 times the condition number;
///   example 2 of the batch gives what it gives alone, in every method.
inline void check_algebra(const measurement& h) {
    const shape_t example = h.example_shape(), measured = h.measured_shape();
    const std::int64_t d = h.example_size(), m = h.measured_size();
    const std::vector<double>& s = h.singular_values();
    REQUIRE(static_cast<std::int64_t>(s.size()) == m);
    const tensor x = random_batch(3, example, 1), y = random_batch(3, measured, 2);
    const tensor c = random_batch(3, {d}, 3), cu = random_batch(3, {m}, 4);

    // The SVD reproduces H and H^T.
    CHECK(testing::relative_error(h.apply(x), h.u(scaled(h.v_transpose(x), s, m))) < 1e-5);
    CHECK(testing::relative_error(h.adjoint(y), h.v(scaled(h.u_transpose(y), s, d))) < 1e-5);
    CHECK(h.apply(x).shape() == batch_shape(3, measured));
    CHECK(h.adjoint(y).shape() == batch_shape(3, example));
    CHECK(h.v_transpose(x).shape() == shape_t{3, d});
    CHECK(h.u_transpose(y).shape() == shape_t{3, m});

    // U and V are orthogonal, both ways.
    CHECK(testing::relative_error(h.v(h.v_transpose(x)), x) < 1e-5);
    CHECK(testing::relative_error(h.v_transpose(h.v(c)), c) < 1e-5);
    CHECK(testing::relative_error(h.u(h.u_transpose(y)), y) < 1e-5);
    CHECK(testing::relative_error(h.u_transpose(h.u(cu)), cu) < 1e-5);

    // The adjoint: <H x, y> = <x, H^T y>.
    const double left = dot(h.apply(x), y), right = dot(x, h.adjoint(y));
    CHECK(std::abs(left - right) <= 1e-5 * std::max({std::abs(left), std::sqrt(dot(x, x) * dot(y, y)), 1.0}));

    // The singular values are H's.
    const matrix dense_matrix = dense_h(h);
    const Eigen::JacobiSVD<matrix> svd(dense_matrix);
    const Eigen::VectorXd expected = svd.singularValues();
    REQUIRE(expected.size() == m);  // M <= D: min(M, D) = M values
    for (std::int64_t i = 0; i < m; ++i) {
        CHECK(s[static_cast<std::size_t>(i)] == doctest::Approx(expected[i]).epsilon(1e-5).scale(s.front()));
        if (i > 0) CHECK(s[static_cast<std::size_t>(i)] <= s[static_cast<std::size_t>(i - 1)]);
    }

    // The pseudo-inverse.
    double smallest = s.front();
    for (double value : s)
        if (value > 1e-10 * s.front()) smallest = std::min(smallest, value);
    const double condition = s.front() > 0 ? s.front() / smallest : 1.0, tolerance = 1e-5 * std::max(1.0, condition);
    const tensor hx = h.apply(x);
    CHECK(testing::relative_error(h.apply(h.pseudo_inverse(hx)), hx) < tolerance);
    const matrix pinv = dense(measured, [&](const tensor& b) { return h.pseudo_inverse(b); });
    const matrix projection = pinv * dense_matrix;
    CHECK(relative(projection * projection, projection) < tolerance);
    CHECK(relative(projection.transpose(), projection) < tolerance);
    // The reference: H^T (H H^T)^-1 when H has full row rank, else V diag(1/s) U^T from the
    // dense SVD, singular values below 1e-4 max(s) taken as the zeros that float rounding blurs.
    const bool full_row_rank = s.back() > 1e-6 * s.front();
    matrix reference;
    if (full_row_rank) {
        reference = dense_matrix.transpose() * (dense_matrix * dense_matrix.transpose()).inverse();
    } else {
        const Eigen::JacobiSVD<matrix> full(dense_matrix, Eigen::ComputeThinU | Eigen::ComputeThinV);
        Eigen::VectorXd inverse = full.singularValues();
        for (Eigen::Index i = 0; i < inverse.size(); ++i)
            inverse[i] = inverse[i] > 1e-4 * inverse[0] ? 1 / inverse[i] : 0;
        reference = full.matrixV() * inverse.asDiagonal() * full.matrixU().transpose();
    }
    CHECK(relative(pinv, reference) < tolerance);

    // Batch independence: example 2 alone gives row 2 of the batch, in every method.
    auto same = [](const tensor& batch, const tensor& alone) {
        return batch.slice(0, 2, 3).contiguous().to_vector() == alone.contiguous().to_vector();
    };
    CHECK(same(h.apply(x), h.apply(row(x, 2))));
    CHECK(same(h.adjoint(y), h.adjoint(row(y, 2))));
    CHECK(same(h.pseudo_inverse(y), h.pseudo_inverse(row(y, 2))));
    CHECK(same(h.v_transpose(x), h.v_transpose(row(x, 2))));
    CHECK(same(h.v(c), h.v(row(c, 2))));
    CHECK(same(h.u_transpose(y), h.u_transpose(row(y, 2))));
    CHECK(same(h.u(cu), h.u(row(cu, 2))));
}

}  // namespace difflab::plugins::checks
