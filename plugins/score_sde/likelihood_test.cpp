// SPDX-License-Identifier: Apache-2.0
// Tests of the probability-flow ODE likelihood against the closed-form Gaussian density.
#include "likelihood.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

#include "sde_processes.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

build_context& context = testing::test_context();
const double pi = std::acos(-1.0);
constexpr double data_variance = 0.25;
constexpr std::int64_t dims = 4;

/// The same values as gaussian_denoiser, through a path autograd cannot follow (as an analytic
/// or external model would be): forces the finite-difference divergence.
class opaque_gaussian_denoiser final : public denoiser {
public:
    opaque_gaussian_denoiser(const process& p, double variance) : denoiser(p), exact_(p, variance) {}

protected:
    tensor denoise(const tensor& x, double t) const override { return exact_.x0(x, t).detach(); }

private:
    gaussian_denoiser exact_;
};

/// -log N(x; 0, variance I) of each row, in nats.
std::vector<double> gaussian_nll(const tensor& x, double variance) {
    const auto values = x.to_vector();
    const auto n = static_cast<std::size_t>(x.size(0)), d = values.size() / n;
    std::vector<double> out;
    for (std::size_t i = 0; i < n; ++i) {
        double square = 0;
        for (std::size_t j = 0; j < d; ++j) square += static_cast<double>(values[i * d + j]) * values[i * d + j];
        out.push_back(0.5 * static_cast<double>(d) * std::log(2 * pi * variance) + 0.5 * square / variance);
    }
    return out;
}

double nats(double bits_per_dim, std::int64_t d = dims) {
    return bits_per_dim * static_cast<double>(d) * std::log(2.0);
}

/// A few test points of N(0, 0.25 I) in 4 dimensions, one of them far in the tail.
tensor points() {
    tensor x = randn({3, dims}, 21, random_purpose("test")) * static_cast<float>(std::sqrt(data_variance));
    return concat({x, tensor::full({1, dims}, 1.2f)}, 0);
}

likelihood_options with(const std::string& probe, std::int64_t probes) {
    likelihood_options o;
    o.probe = probe;
    o.probes = probes;
    return o;
}

}  // namespace

// For Gaussian data the Jacobian of the probability-flow velocity is c(t) I, so z^T J z = c |z|^2
// = c D for every Rademacher z: one probe gives the exact divergence, and the result is exact up
// to the ODE tolerance and the prior (N(0, prior_std^2) instead of the marginal at t_max).
TEST_CASE("PF-ODE NLL equals the Gaussian NLL on the VP and VE SDEs with one Rademacher probe") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    const ve_sde ve({0.01, 50.0, 1e-5}, context);
    const tensor x = points();
    for (const process* p : {static_cast<const process*>(&vp), static_cast<const process*>(&ve)}) {
        const gaussian_denoiser d(*p, data_variance);
        const likelihood_result r = negative_log_likelihood(d, x, with("rademacher", 1));
        const std::vector<double> want = gaussian_nll(x, data_variance);
        const std::vector<double> at_t_min = gaussian_nll(x, d.marginal_variance(p->t_min()));
        REQUIRE(r.bits_per_dim.size() == want.size());
        double worst = 0, worst_t_min = 0;
        for (std::size_t i = 0; i < want.size(); ++i) {
            const double got = nats(r.bits_per_dim[i]);
            worst = std::max(worst, std::abs(got - want[i]) / std::abs(want[i]));
            worst_t_min = std::max(worst_t_min, std::abs(got - at_t_min[i]) / std::abs(at_t_min[i]));
            CHECK(r.estimator_variance[i] == 0.0);
        }
        MESSAGE("worst relative error against N(0, v I): ", worst, "; against the marginal at t_min: ", worst_t_min,
                "; evaluations for 4 samples: ", r.evaluations);
        CHECK(worst < 0.01);
        CHECK(worst_t_min < 1e-3);
        CHECK(r.evaluations > 0);
    }
}

// With Gaussian probes each integrated estimate is delta * |z_k|^2 / D, where delta =
// D/2 log(m(t_max) / m(t_min)) is the exact divergence integral: the test redraws the probes from
// the documented stream and predicts the mean and the variance of the K estimates exactly.
TEST_CASE("Gaussian probes: the K estimates scatter as |z|^2 / D predicts, around the Rademacher result") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    const gaussian_denoiser d(vp, data_variance);
    const tensor x = points();
    const std::int64_t k_probes = 16;
    likelihood_options gaussian = with("gaussian", k_probes);
    gaussian.seed = 5;
    gaussian.first_index = 100;
    const likelihood_result g = negative_log_likelihood(d, x, gaussian);
    const likelihood_result r = negative_log_likelihood(d, x, with("rademacher", 1));
    const double delta = 0.5 * dims * std::log(d.marginal_variance(vp.t_max()) / d.marginal_variance(vp.t_min()));
    for (std::int64_t i = 0; i < x.size(0); ++i) {
        std::vector<double> scale;  // |z_k|^2 / D
        double mean = 0;
        for (std::int64_t k = 0; k < k_probes; ++k) {
            const auto z = randn({1, dims}, 5, random_purpose("likelihood/probe"), static_cast<std::uint64_t>(100 + i),
                                 static_cast<std::uint64_t>(k))
                               .to_vector();
            double square = 0;
            for (float v : z) square += static_cast<double>(v) * v;
            scale.push_back(square / dims);
            mean += scale.back() / k_probes;
        }
        double variance = 0;
        for (double s : scale) variance += (s - mean) * (s - mean) / (k_probes - 1);
        const auto u = static_cast<std::size_t>(i);
        CAPTURE(i);
        CHECK(g.estimator_variance[u] > 0.1);
        CHECK(g.estimator_variance[u] == doctest::Approx(delta * delta * variance).epsilon(1e-3));
        // NLL = -(log p_T + mean delta_k): only the divergence term differs from Rademacher's.
        CHECK(nats(g.bits_per_dim[u]) - nats(r.bits_per_dim[u]) == doctest::Approx(delta * (1 - mean)).epsilon(1e-3));
    }
    // Probes add backward passes, not evaluations: 2 + 6 per step attempted for each of 4 samples.
    CHECK((g.evaluations - 2 * 4) % 6 == 0);
}

TEST_CASE("the finite-difference divergence agrees with autograd on the same model") {
    const ve_sde ve({0.01, 50.0, 1e-5}, context);
    const gaussian_denoiser exact(ve, data_variance);
    const opaque_gaussian_denoiser opaque(ve, data_variance);
    const tensor x = points();
    const likelihood_options o = with("gaussian", 2);
    const likelihood_result autograd_result = negative_log_likelihood(exact, x, o);
    const likelihood_result fallback = negative_log_likelihood(opaque, x, o);  // "auto" falls back
    likelihood_options forced = o;
    forced.divergence = "finite_difference";
    const likelihood_result forced_result = negative_log_likelihood(exact, x, forced);
    double worst = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        worst = std::max(worst, std::abs(fallback.bits_per_dim[i] - autograd_result.bits_per_dim[i]) /
                                    std::abs(autograd_result.bits_per_dim[i]));
        CHECK(forced_result.bits_per_dim[i] == fallback.bits_per_dim[i]);
        CHECK(fallback.estimator_variance[i] == doctest::Approx(autograd_result.estimator_variance[i]).epsilon(1e-3));
    }
    MESSAGE("finite difference vs autograd: worst relative difference in bits/dim ", worst, "; evaluations ",
            fallback.evaluations, " vs ", autograd_result.evaluations);
    CHECK(worst < 1e-4);
    // Each right-hand side costs 1 + 2 K = 5 evaluations instead of 1 (2 + 6 per step, per sample).
    CHECK(fallback.evaluations % 5 == 0);
    CHECK((fallback.evaluations / 5 - 2 * 4) % 6 == 0);
    CHECK((autograd_result.evaluations - 2 * 4) % 6 == 0);

    // Inside a no_grad_guard, "auto" can only take the finite difference; "autograd" refuses.
    {
        no_grad_guard no_grad;
        CHECK(negative_log_likelihood(exact, x, o).bits_per_dim == fallback.bits_per_dim);
        likelihood_options strict = o;
        strict.divergence = "autograd";
        CHECK_THROWS_AS(negative_log_likelihood(exact, x, strict), error);
    }
    likelihood_options strict = o;
    strict.divergence = "autograd";
    CHECK_THROWS_AS(negative_log_likelihood(opaque, x, strict), error);
}

TEST_CASE("8-bit dequantization lands each value in its bin of width 2/256, keyed per sample") {
    std::vector<float> levels;
    for (int k : {0, 1, 127, 128, 254, 255}) levels.push_back(static_cast<float>(2.0 * k / 255.0 - 1.0));
    const tensor x = tensor::from_vector({2, 3}, levels);
    const auto got = dequantize_8bit(x, 9, 40).to_vector();
    const int ks[6] = {0, 1, 127, 128, 254, 255};
    for (std::size_t i = 0; i < 6; ++i) {
        CAPTURE(ks[i]);
        CHECK(got[i] >= ks[i] / 128.0 - 1.0);
        CHECK(got[i] < (ks[i] + 1) / 128.0 - 1.0);
    }
    // Row 1 on its own, with first_index 41, draws the same noise.
    const auto row = dequantize_8bit(x.slice(0, 1, 2).contiguous(), 9, 41).to_vector();
    for (std::size_t i = 0; i < 3; ++i) CHECK(row[i] == got[3 + i]);
    CHECK_THROWS_AS(dequantize_8bit(tensor::full({1, 2}, 1.5f), 0, 0), error);
}

// The discrete NLL of 8-bit data under the continuous Gaussian model: P(k) = prod over dims of the
// mass of N(0, m(t_min)) on the bin [k / 128 - 1, (k + 1) / 128 - 1). The dequantized estimate with
// its 7 bits/dim is, averaged over the uniform noise, an upper bound on it (Jensen), tight here as
// the density barely changes across a bin; one draw scatters by about 1e-3 bits/dim.
TEST_CASE("dequantized NLL adds 7 bits/dim and estimates the discrete NLL of 8-bit data") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    const gaussian_denoiser d(vp, data_variance);
    const int ks[2][dims] = {{100, 128, 140, 200}, {60, 127, 130, 255}};
    std::vector<float> values;
    for (const auto& row : ks)
        for (int k : row) values.push_back(static_cast<float>(2.0 * k / 255.0 - 1.0));
    const tensor x = tensor::from_vector({2, dims}, values);
    const double m = d.marginal_variance(vp.t_min());
    auto cdf = [&](double y) { return 0.5 * std::erfc(-y / std::sqrt(2 * m)); };

    const std::uint64_t draws = 32;
    double mean[2] = {0, 0};
    for (std::uint64_t seed = 0; seed < draws; ++seed) {
        likelihood_options o = with("rademacher", 1);
        o.dequantize = true;
        o.seed = seed;
        const likelihood_result r = negative_log_likelihood(d, x, o);
        // This draw: the continuous NLL at the dequantized point, plus log2(128) per dimension.
        const std::vector<double> continuous = gaussian_nll(dequantize_8bit(x, seed, 0), m);
        for (std::size_t i = 0; i < 2; ++i) {
            CHECK(r.bits_per_dim[i] == doctest::Approx(continuous[i] / (dims * std::log(2.0)) + 7).epsilon(1e-4));
            mean[i] += r.bits_per_dim[i] / static_cast<double>(draws);
        }
    }
    for (std::size_t i = 0; i < 2; ++i) {
        double discrete_bits = 0;
        for (int k : ks[i]) discrete_bits -= std::log2(cdf((k + 1) / 128.0 - 1.0) - cdf(k / 128.0 - 1.0)) / dims;
        CAPTURE(i);
        MESSAGE("dequantized, mean of ", draws, " draws: ", mean[i], " bits/dim; discrete: ", discrete_bits);
        CHECK(std::abs(mean[i] - discrete_bits) < 1e-3);
    }
}

TEST_CASE("likelihood: a sample's result does not depend on the batch, and bad options are refused") {
    const ve_sde ve({0.01, 50.0, 1e-5}, context);
    const gaussian_denoiser d(ve, data_variance);
    const tensor x = points();
    likelihood_options o = with("gaussian", 3);
    o.seed = 1;
    const likelihood_result all = negative_log_likelihood(d, x, o);
    o.first_index = 2;
    const likelihood_result part = negative_log_likelihood(d, x.slice(0, 2, 4).contiguous(), o);
    for (std::size_t i = 0; i < 2; ++i) {
        CHECK(part.bits_per_dim[i] == all.bits_per_dim[2 + i]);
        CHECK(part.estimator_variance[i] == all.estimator_variance[2 + i]);
    }
    CHECK_THROWS_AS(negative_log_likelihood(d, x, with("uniform", 1)), config_error);
    CHECK_THROWS_AS(negative_log_likelihood(d, x, with("gaussian", 0)), config_error);
    likelihood_options bad;
    bad.divergence = "exact";
    CHECK_THROWS_AS(negative_log_likelihood(d, x, bad), config_error);
}

// score_sde integrates a whole batch as one state. batch_size does the same: each row keeps its
// own probes and dequantization (so a mis-keyed probe would move its value by the |z|^2 / D
// scatter, ~0.5 bits/dim here), and only the shared step sizes differ from integrating alone.
TEST_CASE("likelihood: rows integrated jointly agree with each alone within the tolerance, in fewer calls") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, context);
    const gaussian_denoiser exact(vp, data_variance);
    const opaque_gaussian_denoiser opaque(vp, data_variance);
    const tensor x = points();
    for (const denoiser* d : {static_cast<const denoiser*>(&exact), static_cast<const denoiser*>(&opaque)}) {
        likelihood_options o = with("gaussian", 2);
        o.seed = 3;
        const likelihood_result alone = negative_log_likelihood(*d, x, o);
        for (std::int64_t batch : {3, 4}) {  // 3: a full group and a group of one
            o.batch_size = batch;
            const likelihood_result joint = negative_log_likelihood(*d, x, o);
            CAPTURE(batch);
            REQUIRE(joint.bits_per_dim.size() == alone.bits_per_dim.size());
            for (std::size_t i = 0; i < alone.bits_per_dim.size(); ++i) {
                CAPTURE(i);
                CHECK(std::abs(joint.bits_per_dim[i] - alone.bits_per_dim[i]) < 1e-3);
                CHECK(std::abs(joint.estimator_variance[i] - alone.estimator_variance[i]) <
                      1e-3 * (1 + alone.estimator_variance[i]));
            }
            CHECK(joint.evaluations < alone.evaluations);
        }
    }
    likelihood_options bad;
    bad.batch_size = 0;
    CHECK_THROWS_AS(negative_log_likelihood(exact, x, bad), config_error);
}
