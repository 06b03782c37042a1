// SPDX-License-Identifier: Apache-2.0
// Tests of the 'gmm' dataset: moments, reproducible examples, shapes and options.
#include "gmm_dataset.h"

#include <difflab/base/error.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <numeric>

using namespace difflab;
using difflab::plugins::gmm_dataset;

namespace {
std::vector<std::int64_t> range(std::int64_t first, std::int64_t count) {
    std::vector<std::int64_t> out(static_cast<std::size_t>(count));
    std::iota(out.begin(), out.end(), first);
    return out;
}
}  // namespace

TEST_CASE("sample moments match the mixture's mean and covariance") {
    const gmm_dataset data = testing::build<gmm_dataset>("{shape: [2], components: 4, covariance: full, seed: 3}");
    const std::int64_t n = 40000;
    const auto batch = data.get(range(0, n));
    const Eigen::MatrixXd x = Eigen::Map<const Eigen::MatrixXf>(batch.x.to_vector().data(), 2, n).cast<double>();
    const Eigen::VectorXd mean = x.rowwise().mean();
    const Eigen::MatrixXd centered = x.colwise() - mean;
    const Eigen::MatrixXd covariance = centered * centered.transpose() / static_cast<double>(n - 1);
    const Eigen::MatrixXd true_covariance = data.mixture().covariance();
    for (int i = 0; i < 2; ++i) {
        // 5 standard errors of the mean and of the variance
        CHECK(std::abs(mean(i) - data.mixture().mean()(i)) < 5 * std::sqrt(true_covariance(i, i) / n));
        for (int j = 0; j < 2; ++j)
            CHECK(std::abs(covariance(i, j) - true_covariance(i, j)) <
                  5 * std::sqrt(2.0 / n) * true_covariance(i, i) + 0.02);
    }
    // Labels follow the (equal) weights.
    const auto labels = batch.labels.to_vector();
    for (int k = 0; k < 4; ++k) {
        const double share = static_cast<double>(std::count(labels.begin(), labels.end(), static_cast<float>(k))) / n;
        CHECK(share == doctest::Approx(0.25).epsilon(0.04));
    }
}

TEST_CASE("example i is the same whatever the batch it is drawn in") {
    const gmm_dataset data = testing::build<gmm_dataset>("{shape: [1, 4, 4], components: 3}");
    const auto whole = data.get(range(0, 8));
    CHECK(whole.x.shape() == shape_t{8, 1, 4, 4});
    const auto part = data.get({5, 2});
    const auto w = whole.x.to_vector(), p = part.x.to_vector();
    for (int j = 0; j < 16; ++j) {
        CHECK(p[static_cast<std::size_t>(j)] == w[static_cast<std::size_t>(5 * 16 + j)]);
        CHECK(p[static_cast<std::size_t>(16 + j)] == w[static_cast<std::size_t>(2 * 16 + j)]);
    }
}

TEST_CASE("a mixture given in YAML is used as written") {
    const gmm_dataset data = testing::build<gmm_dataset>(
        "{shape: [2], means: [[0, 0], [4, 4]], weights: [3, 1], covariances: [[1, 0, 0, 1], [0.5, 0, 0, 0.5]]}");
    CHECK(data.mixture().components() == 2);
    CHECK(data.mixture().weights()[0] == doctest::Approx(0.75));
    CHECK(data.mixture().mean()(0) == doctest::Approx(1.0));
    CHECK_THROWS_WITH_AS(testing::build<gmm_dataset>("{shape: [3], means: [[0, 0]]}"),
                         "error: gmm: mean 0 has 2 values but shape [3] has 3", config_error);
    CHECK_THROWS_WITH_AS(testing::build<gmm_dataset>("{shape: [2], means: [[0, 0]], covariances: [[1, 0, 1]]}"),
                         "error: gmm: covariance 0 has 3 values; a 2x2 matrix needs 4", config_error);
}
