// SPDX-License-Identifier: Apache-2.0
// Tests of the inception score on probability matrices with known scores.
#include "inception_score_metric.h"

#include <difflab/base/error.h>
#include <doctest/doctest.h>

#include <cmath>

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// One-hot rows: row i is class classes_of(i).
template <class F>
Eigen::MatrixXd one_hot(Eigen::Index n, Eigen::Index classes, F classes_of) {
    Eigen::MatrixXd p = Eigen::MatrixXd::Zero(n, classes);
    for (Eigen::Index i = 0; i < n; ++i) p(i, classes_of(i)) = 1.0;
    return p;
}

}  // namespace

TEST_CASE("every sample confidently the same class scores 1") {
    CHECK(inception_score(one_hot(50, 10, [](Eigen::Index) { return 3; }), 1) == doctest::Approx(1.0));
    // Uninformative (uniform) predictions also score 1: p(y|x) = p(y).
    CHECK(inception_score(Eigen::MatrixXd::Constant(20, 10, 0.1), 1) == doctest::Approx(1.0));
}

TEST_CASE("confident predictions spread evenly over the classes score num_classes") {
    CHECK(inception_score(one_hot(100, 10, [](Eigen::Index i) { return i % 10; }), 1) == doctest::Approx(10.0));
    CHECK(inception_score(one_hot(30, 3, [](Eigen::Index i) { return i % 3; }), 1) == doctest::Approx(3.0));
}

TEST_CASE("a hand-computed mixed case") {
    // Rows (0.5, 0.5) and (1, 0): p(y) = (0.75, 0.25); KL = 0.5 ln(4/3) and ln(4/3), mean 0.75 ln(4/3).
    Eigen::MatrixXd p(2, 2);
    p << 0.5, 0.5,  //
        1.0, 0.0;
    CHECK(inception_score(p, 1) == doctest::Approx(std::pow(4.0 / 3.0, 0.75)).epsilon(1e-12));
}

TEST_CASE("splits score consecutive parts and average them") {
    // The first half all class 0, the second all class 1: one split sees two classes (score 2),
    // two splits each see one (score 1).
    const Eigen::MatrixXd p = one_hot(20, 2, [](Eigen::Index i) { return i < 10 ? 0 : 1; });
    CHECK(inception_score(p, 1) == doctest::Approx(2.0));
    CHECK(inception_score(p, 2) == doctest::Approx(1.0));
    // Three uneven splits of 10 alternating rows: 0-2 (classes 0, 1, 0) and 3-5 (1, 0, 1) score
    // exp((2 ln 1.5 + ln 3) / 3) = 6.75^(1/3) each, 6-9 (0, 1, 0, 1) scores 2.
    CHECK(inception_score(one_hot(10, 2, [](Eigen::Index i) { return i % 2; }), 3) ==
          doctest::Approx((2 * std::cbrt(6.75) + 2.0) / 3.0).epsilon(1e-12));
    CHECK_THROWS_AS(inception_score(p, 0), difflab::error);
    CHECK_THROWS_AS(inception_score(p, 21), difflab::error);
}

TEST_CASE("softmax rows are stable for large logits") {
    Eigen::MatrixXd logits(2, 3);
    logits << 1000, 0, -1000,  //
        0, 0, 0;
    const Eigen::MatrixXd p = softmax_rows(logits);
    CHECK(p(0, 0) == doctest::Approx(1.0));
    CHECK(p(0, 1) == doctest::Approx(0.0));
    CHECK(p(1, 2) == doctest::Approx(1.0 / 3.0));
    CHECK(p.row(1).sum() == doctest::Approx(1.0));
}
