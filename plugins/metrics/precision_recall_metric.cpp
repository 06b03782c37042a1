// SPDX-License-Identifier: Apache-2.0
// The 'precision_recall' metric: k-nearest-neighbour radii and manifold membership.
#include "precision_recall_metric.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace difflab::plugins {

namespace {

/// Rows of distance computations at a time: bounds the memory of the [rows, N] block.
constexpr Eigen::Index block_rows = 256;

/// Squared distances between rows first .. first + count - 1 of `a` and every row of `b`, from
/// |x|^2 + |y|^2 - 2 x.y (one matrix product per block), clamped at 0 against rounding.
Eigen::MatrixXd squared_distances(const Eigen::MatrixXd& a, Eigen::Index first, Eigen::Index count,
                                  const Eigen::MatrixXd& b, const Eigen::VectorXd& b_norms) {
    const auto rows = a.middleRows(first, count);
    Eigen::MatrixXd d = -2.0 * rows * b.transpose();
    d.colwise() += rows.rowwise().squaredNorm();
    d.rowwise() += b_norms.transpose();
    return d.cwiseMax(0.0);
}

void check_set(const Eigen::MatrixXd& points, std::int64_t k, const char* what) {
    if (k < 1 || points.rows() <= k)
        throw error(
            fmt::format("precision_recall: {} has {} points; k = {} needs more than k", what, points.rows(), k));
}

}  // namespace

Eigen::VectorXd knn_radii(const Eigen::MatrixXd& points, std::int64_t k) {
    check_set(points, k, "the set");
    const Eigen::Index n = points.rows();
    const Eigen::VectorXd norms = points.rowwise().squaredNorm();
    Eigen::VectorXd radii(n);
    std::vector<double> row(static_cast<std::size_t>(n));
    for (Eigen::Index first = 0; first < n; first += block_rows) {
        const Eigen::Index count = std::min(block_rows, n - first);
        const Eigen::MatrixXd d = squared_distances(points, first, count, points, norms);
        for (Eigen::Index i = 0; i < count; ++i) {
            for (Eigen::Index j = 0; j < n; ++j) row[static_cast<std::size_t>(j)] = d(i, j);
            // The point itself is at distance 0 (rounding aside) and is one of the k + 1 nearest.
            row[static_cast<std::size_t>(first + i)] = 0.0;
            std::nth_element(row.begin(), row.begin() + k, row.end());
            radii(first + i) = std::sqrt(row[static_cast<std::size_t>(k)]);
        }
    }
    return radii;
}

double manifold_coverage(const Eigen::MatrixXd& points, const Eigen::VectorXd& radii, const Eigen::MatrixXd& queries) {
    if (points.cols() != queries.cols() || radii.size() != points.rows())
        throw error(fmt::format("precision_recall: {} points of dimension {} with {} radii against queries "
                                 "of dimension {}",
                                points.rows(), points.cols(), radii.size(), queries.cols()));
    if (queries.rows() == 0) return 0.0;
    const Eigen::VectorXd norms = points.rowwise().squaredNorm();
    const Eigen::RowVectorXd limits = radii.cwiseProduct(radii).transpose();
    Eigen::Index inside = 0;
    for (Eigen::Index first = 0; first < queries.rows(); first += block_rows) {
        const Eigen::Index count = std::min(block_rows, queries.rows() - first);
        const Eigen::MatrixXd d = squared_distances(queries, first, count, points, norms);
        for (Eigen::Index i = 0; i < count; ++i)
            if ((d.row(i).array() <= limits.array()).any()) ++inside;
    }
    return static_cast<double>(inside) / static_cast<double>(queries.rows());
}

precision_recall_values improved_precision_recall(const Eigen::MatrixXd& reference, const Eigen::MatrixXd& samples,
                                                  std::int64_t k) {
    check_set(reference, k, "the reference");
    check_set(samples, k, "the sample set");
    precision_recall_values out;
    out.precision = manifold_coverage(reference, knn_radii(reference, k), samples);
    out.recall = manifold_coverage(samples, knn_radii(samples, k), reference);
    return out;
}

param_spec<precision_recall_metric::options> precision_recall_metric::params() {
    param_spec<options> spec{
        "Improved precision and recall (Kynkäänniemi et al. 2019): k-NN manifolds of samples and reference in the "
        "feature space of a trained classifier."};
    add_feature_network_params(spec);
    spec.add(&options::k, "k", "Neighbour whose distance is each point's manifold radius (the paper's k = 3).",
             at_least<std::int64_t>(1));
    return spec;
}

precision_recall_metric::precision_recall_metric(const options& opts, build_context& ctx)
    : feature_space_metric(opts.feature_network, opts.batch_size, ctx), opts_(opts) {}

metric_values precision_recall_metric::compute(const metric_inputs& in) {
    for (const auto& [field, t] : {std::pair<const char*, const tensor*>{"samples", &in.samples},
                                   std::pair<const char*, const tensor*>{"reference", &in.reference}})
        if (!t->defined() || t->dim() != 4 || t->size(0) <= opts_.k)
            throw error(fmt::format("precision_recall needs `{}` images [N, C, H, W] with N > k = {}, got {}", field,
                                    opts_.k, t->defined() ? shape_text(t->shape()) : "none"));
    const precision_recall_values v = improved_precision_recall(to_matrix(features().features(in.reference)),
                                                                to_matrix(features().features(in.samples)), opts_.k);
    return {{"precision", v.precision}, {"recall", v.recall}};
}

metric_protocol precision_recall_metric::settings() const {
    return {{"k", std::to_string(opts_.k)}};
}

}  // namespace difflab::plugins
