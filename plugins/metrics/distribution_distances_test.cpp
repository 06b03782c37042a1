// SPDX-License-Identifier: Apache-2.0
// Tests of the sliced_wasserstein and mmd metrics against exact and closed-form values.
#include "distribution_distances.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/sample_distances.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace difflab;
using namespace difflab::plugins;

namespace {

metric_inputs sets(const tensor& samples, const tensor& reference, std::uint64_t seed = 0) {
    metric_inputs in;
    in.samples = samples;
    in.reference = reference;
    in.seed = seed;
    return in;
}

/// n rows of N(mean, s^2 I) in d dimensions (mean along the first axis only).
Eigen::MatrixXd gaussian_rows(Eigen::Index n, Eigen::Index d, double mean, double s, std::uint64_t seed) {
    const std::vector<float> z = randn({n, d}, seed, random_purpose("test")).to_vector();
    Eigen::MatrixXd out(n, d);
    for (Eigen::Index i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < d; ++j)
            out(i, j) = s * z[static_cast<std::size_t>(i * d + j)] + (j == 0 ? mean : 0);
    return out;
}

/// E k(x, y) for x ~ N(a, sa^2 I), y ~ N(b, sb^2 I) in d dimensions, Gaussian kernel of width h:
/// x - y ~ N(a - b, (sa^2 + sb^2) I), and the Gaussian integral gives
/// (h^2 / (h^2 + sa^2 + sb^2))^(d/2) exp(-|a - b|^2 / (2 (h^2 + sa^2 + sb^2))).
double expected_kernel(double shift, double sa, double sb, double h, double d) {
    const double v = h * h + sa * sa + sb * sb;
    return std::pow(h * h / v, d / 2) * std::exp(-shift * shift / (2 * v));
}

}  // namespace

TEST_CASE("sliced_wasserstein metric: exact W2 in 1-D on the first min(N, M) rows") {
    // Samples 5 rows, reference 3: the first 3 samples {0.5, -1, 2} against {0, 1, 4}: sorted
    // pairs (-1, 0), (0.5, 1), (2, 4): W2^2 = (1 + 0.25 + 4) / 3.
    const tensor samples = tensor::from_vector({5, 1}, {0.5f, -1.0f, 2.0f, 10.0f, 10.0f});
    const tensor reference = tensor::from_vector({3, 1}, {4.0f, 0.0f, 1.0f});
    auto metric = testing::build<sliced_wasserstein_metric>("{projections: 3}");
    const metric_values v = metric.compute(sets(samples, reference));
    REQUIRE(v.size() == 1);
    CHECK(v[0].first == "sliced_wasserstein");
    CHECK(v[0].second == doctest::Approx(std::sqrt(5.25 / 3)).epsilon(1e-12));
    CHECK(metric.protocol() == metric_protocol{{"projections", "3"}});
}

TEST_CASE("sliced_wasserstein metric flattens rows, uses the seed, and equals the core distance") {
    const tensor a = randn({64, 1, 2, 3}, 1, random_purpose("test"));
    const tensor b = randn({64, 6}, 2, random_purpose("test")) * 1.5f;
    auto metric = testing::build<sliced_wasserstein_metric>("{projections: 40}");
    const double got = metric.compute(sets(a, b, 7))[0].second;
    std::vector<double> va, vb;
    for (float x : a.to_vector()) va.push_back(x);
    for (float x : b.to_vector()) vb.push_back(x);
    CHECK(got == sliced_wasserstein(va.data(), vb.data(), 64, 6, 40, 7));
    CHECK(metric.compute(sets(a, b, 8))[0].second != got);
    // A shift by c in 6-D: SW2^2 = mean over directions of (theta . c)^2, |c|^2 / 6 on average.
    auto many = testing::build<sliced_wasserstein_metric>("{projections: 4000}");
    const double shift = many.compute(sets(a, a + 0.5f, 3))[0].second;
    CHECK(shift * shift == doctest::Approx(6 * 0.25 / 6).epsilon(0.06));  // sd of the direction mean: 1.8%
    CHECK_THROWS_WITH_AS(metric.compute(sets(a, randn({64, 5}, 2, random_purpose("test")))),
                         "error: sliced_wasserstein: samples [64, 1, 2, 3] and reference [64, 5] have 6 and 5 values "
                         "per row; sliced_wasserstein compares rows of equal size",
                         error);
    CHECK_THROWS_AS(testing::build<sliced_wasserstein_metric>("{projections: 0}"), config_error);
}

TEST_CASE("mmd equals a direct double loop and the median heuristic counts pairs by hand") {
    const Eigen::MatrixXd x = gaussian_rows(300, 3, 0.0, 1.0, 1), y = gaussian_rows(270, 3, 0.4, 0.8, 2);
    const double h = 1.3;
    auto k = [&](const Eigen::MatrixXd& a, Eigen::Index i, const Eigen::MatrixXd& b, Eigen::Index j) {
        return std::exp(-(a.row(i) - b.row(j)).squaredNorm() / (2 * h * h));
    };
    double xx = 0, yy = 0, xy = 0;
    for (Eigen::Index i = 0; i < 300; ++i)
        for (Eigen::Index j = 0; j < 300; ++j)
            if (i != j) xx += k(x, i, x, j);
    for (Eigen::Index i = 0; i < 270; ++i)
        for (Eigen::Index j = 0; j < 270; ++j)
            if (i != j) yy += k(y, i, y, j);
    for (Eigen::Index i = 0; i < 300; ++i)
        for (Eigen::Index j = 0; j < 270; ++j) xy += k(x, i, y, j);
    const double direct = xx / (300.0 * 299) + yy / (270.0 * 269) - 2 * xy / (300.0 * 270);
    CHECK(mmd_unbiased(x, y, h) == doctest::Approx(direct).epsilon(1e-10));

    // Distances of {0, 1, 3}: 1, 3, 2 -> 2; of {0, 1, 3, 7}: 1, 3, 7, 2, 6, 4 -> (3 + 4) / 2.
    CHECK(median_pairwise_distance(Eigen::Vector3d(0, 1, 3)) == doctest::Approx(2.0));
    CHECK(median_pairwise_distance(Eigen::Vector4d(0, 1, 3, 7)) == doctest::Approx(3.5));
    // bandwidth 0 in the metric: the median of the pooled {0, 1} and {3, 7}.
    const tensor s = tensor::from_vector({2, 1}, {0.0f, 1.0f}), r = tensor::from_vector({2, 1}, {3.0f, 7.0f});
    const metric_values v = testing::build<mmd_metric>().compute(sets(s, r));
    REQUIRE(v.size() == 1);
    CHECK(v[0].first == "mmd");
    CHECK(v[0].second == doctest::Approx(mmd_unbiased(Eigen::Vector2d(0, 1), Eigen::Vector2d(3, 7), 3.5)));
}

// MMD^2 = E k(x, x') + E k(y, y') - 2 E k(x, y), each term in closed form for Gaussians; the
// unbiased estimator's expectation is exactly that. Its standard deviation at 2000 rows per set,
// measured over 30 seeds (numpy, the same estimator): 0.0066 for these two Gaussians (MMD^2
// 0.088), 0.0004 for two sets of one Gaussian. The mean of 8 independent estimates has a standard
// error of 0.0023: the tolerance is 3 of them.
TEST_CASE("mmd between two Gaussians matches the closed form within its standard error") {
    const double d = 2, h = 1.0, s1 = 1.0, s2 = 1.2, shift = 1.0;
    const double want =
        expected_kernel(0, s1, s1, h, d) + expected_kernel(0, s2, s2, h, d) - 2 * expected_kernel(shift, s1, s2, h, d);
    const int replicates = 8;
    double mean = 0, square = 0;
    for (int k = 0; k < replicates; ++k) {
        const auto seed = static_cast<std::uint64_t>(10 + 2 * k);
        const double got =
            mmd_unbiased(gaussian_rows(2000, 2, 0.0, s1, seed), gaussian_rows(2000, 2, shift, s2, seed + 1), h);
        mean += got / replicates;
        square += got * got / replicates;
    }
    const double sd = std::sqrt((square - mean * mean) * replicates / (replicates - 1));
    const Eigen::MatrixXd x = gaussian_rows(2000, 2, 0.0, s1, 3);
    const double same = mmd_unbiased(x, gaussian_rows(2000, 2, 0.0, s1, 5), h);
    MESSAGE("MMD^2 mean of ", replicates, " estimates ", mean, " (sd ", sd, ") against the closed form ", want,
            "; between two sets of one Gaussian: ", same);
    CHECK(std::abs(mean - want) < 0.007);
    CHECK(std::abs(same) < 0.0015);
    // Identical sets: the unbiased estimate is -2 (1 - mean off-diagonal kernel) / m, near 0.
    CHECK(std::abs(mmd_unbiased(x, x, h)) < 2.0 / 2000);
}

TEST_CASE("mmd refuses sets of one row, unequal rows and a degenerate median") {
    auto mmd = testing::build<mmd_metric>();
    CHECK_THROWS_AS(mmd.compute(sets(tensor::zeros({1, 3}), tensor::zeros({5, 3}))), error);
    CHECK_THROWS_AS(mmd.compute(sets(tensor::zeros({4, 3}), tensor::zeros({5, 2}))), error);
    CHECK_THROWS_AS(mmd.compute(sets(tensor::zeros({4, 3}), tensor::zeros({5, 3}))), error);
    CHECK(testing::build<mmd_metric>("{bandwidth: 1.0}")
              .compute(sets(tensor::zeros({4, 3}), tensor::zeros({5, 3})))[0]
              .second == doctest::Approx(0.0).epsilon(1e-12));
    CHECK_THROWS_AS(testing::build<mmd_metric>("{bandwidth: -1.0}"), config_error);
}
