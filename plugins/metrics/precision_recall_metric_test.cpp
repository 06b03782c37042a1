// SPDX-License-Identifier: Apache-2.0
// Tests of k-NN radii, manifold membership and improved precision/recall on hand-made point sets.
#include "precision_recall_metric.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>

#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// One-dimensional points as an [N, 1] matrix.
Eigen::MatrixXd line(const std::vector<double>& xs) {
    Eigen::MatrixXd out(static_cast<Eigen::Index>(xs.size()), 1);
    for (std::size_t i = 0; i < xs.size(); ++i) out(static_cast<Eigen::Index>(i), 0) = xs[i];
    return out;
}

Eigen::MatrixXd gaussian_points(std::int64_t n, std::int64_t dim, double shift, std::uint64_t seed) {
    const std::vector<float> z = randn({n, dim}, seed, random_purpose("test/precision_recall")).to_vector();
    Eigen::MatrixXd out(n, dim);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = 0; j < dim; ++j) out(i, j) = shift + z[static_cast<std::size_t>(i * dim + j)];
    return out;
}

}  // namespace

TEST_CASE("k-NN radii of points on a line") {
    const Eigen::MatrixXd points = line({0, 1, 3, 6, 10});
    const Eigen::VectorXd r1 = knn_radii(points, 1), r2 = knn_radii(points, 2);
    const std::vector<double> expected1{1, 1, 2, 3, 4}, expected2{3, 2, 3, 4, 7};
    for (Eigen::Index i = 0; i < 5; ++i) {
        CHECK(r1(i) == doctest::Approx(expected1[static_cast<std::size_t>(i)]));
        CHECK(r2(i) == doctest::Approx(expected2[static_cast<std::size_t>(i)]));
    }
    // A duplicate is a neighbour at distance 0; the point itself is not.
    CHECK(knn_radii(line({2, 2, 5}), 1)(0) == doctest::Approx(0.0));
    CHECK(knn_radii(line({2, 2, 5}), 1)(2) == doctest::Approx(3.0));
    CHECK_THROWS_AS(knn_radii(points, 5), difflab::error);
    CHECK_THROWS_AS(knn_radii(points, 0), difflab::error);
}

TEST_CASE("k-NN radii on a 2-D grid: 1 inside and along the edges, sqrt(2) at the corners for k = 3") {
    Eigen::MatrixXd grid(25, 2);
    for (int i = 0; i < 25; ++i) grid.row(i) << i % 5, i / 5;
    const Eigen::VectorXd r = knn_radii(grid, 3);
    for (int i = 0; i < 25; ++i) {
        const bool corner = (i % 5 == 0 || i % 5 == 4) && (i / 5 == 0 || i / 5 == 4);
        CHECK(r(i) == doctest::Approx(corner ? std::sqrt(2.0) : 1.0));
    }
}

TEST_CASE("manifold coverage counts queries within some point's radius, boundary included") {
    const Eigen::MatrixXd points = line({0, 10});
    Eigen::VectorXd radii(2);
    radii << 1, 2;
    // 0.5 and -1 and 1 (on the boundary) lie in [-1, 1]; 8 and 11.9 in [8, 12]; 1.5 and 12.5 in neither.
    CHECK(manifold_coverage(points, radii, line({0.5, 1, 1.5, 8, 12.5, -1, 11.9})) == doctest::Approx(5.0 / 7.0));
    CHECK(manifold_coverage(points, radii, line({5})) == 0.0);
}

TEST_CASE("precision and recall of hand-made sets") {
    // Reference 0..9 with k = 1: every radius is 1. Samples 0.5 and 2.5 (radius 2 each: they are
    // each other's nearest neighbour) and a far cluster 100..103 (radius 1).
    std::vector<double> reference;
    for (int i = 0; i < 10; ++i) reference.push_back(i);
    const precision_recall_values v =
        improved_precision_recall(line(reference), line({0.5, 2.5, 100, 101, 102, 103}), 1);
    // Precision: 0.5 and 2.5 are within 1 of a reference point, the far four are not: 2 / 6.
    CHECK(v.precision == doctest::Approx(2.0 / 6.0));
    // Recall: [-1.5, 2.5] and [0.5, 4.5] cover the reference points 0..4: 5 / 10.
    CHECK(v.recall == doctest::Approx(0.5));
}

TEST_CASE("identical sets give precision and recall 1, far-apart sets 0") {
    const Eigen::MatrixXd a = gaussian_points(300, 8, 0.0, 1);
    const precision_recall_values same = improved_precision_recall(a, a, 3);
    CHECK(same.precision == 1.0);
    CHECK(same.recall == 1.0);
    const precision_recall_values far = improved_precision_recall(a, gaussian_points(300, 8, 100.0, 2), 3);
    CHECK(far.precision == 0.0);
    CHECK(far.recall == 0.0);
    // Two samples of one distribution: most of each set lies in the other's manifold.
    const precision_recall_values close = improved_precision_recall(a, gaussian_points(300, 8, 0.0, 3), 3);
    CHECK(close.precision > 0.5);
    CHECK(close.recall > 0.5);
    CHECK(close.precision < 1.0);
}

TEST_CASE("more distance rows than one block, and k beyond the set, are handled") {
    // 600 points span three blocks of distance rows; on a line with spacing 1 and k = 2 every
    // inner radius is 1 and the two end radii are 2.
    std::vector<double> xs;
    for (int i = 0; i < 600; ++i) xs.push_back(i);
    const Eigen::VectorXd r = knn_radii(line(xs), 2);
    CHECK(r(0) == doctest::Approx(2.0));
    CHECK(r(300) == doctest::Approx(1.0));
    CHECK(r(599) == doctest::Approx(2.0));
    CHECK_THROWS_AS(improved_precision_recall(line({0, 1, 2}), line({0, 1}), 2), difflab::error);
}
