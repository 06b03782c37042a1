// SPDX-License-Identifier: Apache-2.0
// The exact conditional given a linear measurement: a mask's is the coordinate conditional, a
// sum's is the Gaussian conditional in closed form.
#include "measurement_posterior.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "oracle_evaluation.h"
#include "sample_statistics.h"
#include "test_mixtures.h"

using namespace difflab;
using namespace difflab::plugins;
using difflab::plugins::test_mixtures::two_components_4d;
using difflab::testing::make;

namespace {

/// H x = x_0 + x_1 on 3-D points: one singular value sqrt(2), V's first column (1, 1, 0) / sqrt(2),
/// then (1, -1, 0) / sqrt(2) and (0, 0, 1). Not a permutation, so the posterior has to rotate.
class pair_sum final : public measurement {
    binding prepare(const shape_t&) override { return {{1}, {std::sqrt(2.0)}}; }
    static tensor rows(std::int64_t n, std::int64_t width, const std::vector<float>& values) {
        return tensor::from_vector({n, width}, values);
    }
    tensor do_apply(const tensor& x) const override {
        const std::vector<float> v = x.to_vector();
        std::vector<float> out;
        for (std::size_t i = 0; i < v.size(); i += 3) out.push_back(v[i] + v[i + 1]);
        return rows(x.size(0), 1, out);
    }
    tensor do_adjoint(const tensor& y) const override {
        std::vector<float> out;
        for (float value : y.to_vector()) out.insert(out.end(), {value, value, 0.0f});
        return rows(y.size(0), 3, out);
    }
    tensor do_v_transpose(const tensor& x) const override {
        const std::vector<float> v = x.to_vector();
        const float r = static_cast<float>(1 / std::sqrt(2.0));
        std::vector<float> out;
        for (std::size_t i = 0; i < v.size(); i += 3)
            out.insert(out.end(), {r * (v[i] + v[i + 1]), r * (v[i] - v[i + 1]), v[i + 2]});
        return rows(x.size(0), 3, out);
    }
    tensor do_v(const tensor& c) const override { return do_v_transpose(c); }  // symmetric and orthogonal
    tensor do_u_transpose(const tensor& y) const override { return y.clone(); }
    tensor do_u(const tensor& c) const override { return c.clone(); }
};

}  // namespace

TEST_CASE("a mask's exact conditional is the coordinate conditional: observed entries fixed, the rest its mixture") {
    const gaussian_mixture m = two_components_4d();
    const std::unique_ptr<measurement> h = make<measurement>("{type: mask, missing: right_half}");
    h->bind({4});
    const tensor y = h->apply(tensor::from_vector({1, 4}, {0.3f, 0.6f, 99.0f, -99.0f}));  // missing entries dropped
    const measurement_posterior posterior(m, *h, y);
    const gaussian_mixture given = m.conditioned({0, 1}, Eigen::Vector2d(0.3, 0.6));
    Eigen::VectorXd mean(4);
    mean << 0.3, 0.6, given.mean();
    CHECK((posterior.mean() - mean).norm() < 1e-6);
    Eigen::MatrixXd covariance = Eigen::MatrixXd::Zero(4, 4);
    covariance.bottomRightCorner(2, 2) = given.covariance();
    CHECK((posterior.covariance() - covariance).norm() < 1e-6);
    // Draws: the observed entries exactly (to float rounding), the rest with the conditional's moments.
    const Eigen::MatrixXd draws = posterior.draw(20000, 3, random_purpose("test/posterior"));
    CHECK((draws.col(0).array() - 0.3).abs().maxCoeff() < 1e-6);
    CHECK((draws.col(1).array() - 0.6).abs().maxCoeff() < 1e-6);
    CHECK(gaussian_w2(sample_mean(draws.rightCols(2)), sample_covariance(draws.rightCols(2)), given.mean(),
                      given.covariance()) < 0.03);
}

TEST_CASE("a sum's exact conditional is the Gaussian conditional mu + S H^T (H S H^T)^-1 (y - H mu)") {
    Eigen::MatrixXd s(3, 3);
    s << 0.6, 0.2, 0.1, 0.2, 0.5, -0.15, 0.1, -0.15, 0.4;
    const Eigen::Vector3d mu(0.5, -1.0, 2.0);
    const gaussian_mixture g({1.0}, {mu}, {s});
    pair_sum h;
    h.bind({3});
    const double y = 0.8;
    const measurement_posterior posterior(g, h, tensor::from_vector({1, 1}, {static_cast<float>(y)}));
    const Eigen::RowVector3d row(1, 1, 0);
    const Eigen::Vector3d gain = s * row.transpose() / (row * s * row.transpose());
    const Eigen::Vector3d mean = mu + gain * (y - row * mu);
    const Eigen::Matrix3d covariance = s - gain * row * s;
    CHECK((posterior.mean() - mean).norm() < 1e-6);
    CHECK((posterior.covariance() - covariance).norm() < 1e-6);
    CHECK(posterior.mean()(0) + posterior.mean()(1) == doctest::Approx(y));
    const Eigen::MatrixXd draws = posterior.draw(100, 1, random_purpose("test/posterior"));
    CHECK(((draws.col(0) + draws.col(1)).array() - y).abs().maxCoeff() < 1e-6);
}

TEST_CASE("the exact conditional refuses noisy measurements, ones that observe everything and y outside H's range") {
    const gaussian_mixture m = two_components_4d();
    const tensor x = tensor::from_vector({1, 4}, {0.3f, 0.6f, 0.1f, 0.2f});
    const std::unique_ptr<measurement> identity = make<measurement>("{type: identity}");
    identity->bind({4});
    CHECK_THROWS_AS(measurement_posterior(m, *identity, identity->apply(x)), config_error);
    const std::unique_ptr<measurement> noisy = make<measurement>("{type: mask, missing: right_half, noise_std: 0.1}");
    noisy->bind({4});
    CHECK_THROWS_AS(measurement_posterior(m, *noisy, noisy->apply(x)), config_error);
    const std::unique_ptr<measurement> mask = make<measurement>("{type: mask, missing: right_half}");
    mask->bind({4});
    CHECK_THROWS_AS(measurement_posterior(m, *mask, x), config_error);  // nonzero where the mask is 0
}
