// SPDX-License-Identifier: Apache-2.0
// Tests of the nll_bpd metric against the closed-form NLL of Gaussian data under its exact denoiser.
#include "nll_bpd_metric.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "likelihood.h"
#include "sde_processes.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

const double pi = std::acos(-1.0);
constexpr double data_variance = 0.25;
constexpr std::int64_t dims = 4;

/// -log2 N(x; 0, variance I) / D of each row: the exact NLL in bits/dim.
std::vector<double> gaussian_bpd(const tensor& x, double variance) {
    const std::vector<float> v = x.to_vector();
    const auto n = static_cast<std::size_t>(x.size(0)), d = v.size() / n;
    std::vector<double> out;
    for (std::size_t i = 0; i < n; ++i) {
        double square = 0;
        for (std::size_t j = i * d; j < (i + 1) * d; ++j) square += static_cast<double>(v[j]) * v[j];
        const double nats = 0.5 * static_cast<double>(d) * std::log(2 * pi * variance) + 0.5 * square / variance;
        out.push_back(nats / (static_cast<double>(d) * std::log(2.0)));
    }
    return out;
}

double value_of(const metric_values& values, const std::string& name) {
    for (const auto& [key, value] : values)
        if (key == name) return value;
    FAIL("no value ", name);
    return 0;
}

}  // namespace

// Data N(0, v I) on the VP SDE, exact denoiser: the PF-ODE density at t_min is N(0, m(t_min) I)
// (up to the prior's mismatch at t_max, e^{-B(1)} v ~ 1e-5, and the ODE tolerance), and one
// Rademacher probe gives the exact divergence (the Jacobian is a multiple of I). So the metric's
// mean is the mean of the closed-form per-example NLLs, its standard error theirs, and the
// mean scatters around the population value E[-log2 N(x; 0, m)] / D = (log(2 pi m) + v / m) / (2 ln 2)
// by about that standard error.
TEST_CASE("nll_bpd of Gaussian data under its exact denoiser equals the closed form, with its standard error") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, testing::test_context());
    const gaussian_denoiser model(vp, data_variance);
    const tensor data = randn({40, dims}, 3, random_purpose("test")) * static_cast<float>(std::sqrt(data_variance));
    auto metric = testing::build<nll_bpd_metric>("{count: 32, dequantize: false}");
    metric_inputs in;
    in.reference = data;
    in.model = &model;
    in.seed = 1;
    const metric_values v = metric.compute(in);
    REQUIRE(v.size() == 2);
    CHECK(v[0].first == "nll_bpd");
    CHECK(v[1].first == "nll_bpd_stderr");

    const double m = model.marginal_variance(vp.t_min());
    const std::vector<double> exact = gaussian_bpd(data.slice(0, 0, 32).contiguous(), m);
    double mean = 0, square = 0;
    for (double b : exact) mean += b / 32;
    for (double b : exact) square += (b - mean) * (b - mean);
    const double stderr_exact = std::sqrt(square / 31 / 32);
    const double population = (std::log(2 * pi * m) + data_variance / m) / (2 * std::log(2.0));
    MESSAGE("nll_bpd ", v[0].second, " +- ", v[1].second, "; closed form on the same rows ", mean, " +- ", stderr_exact,
            "; population ", population);
    CHECK(v[0].second == doctest::Approx(mean).epsilon(1e-3));
    CHECK(v[1].second == doctest::Approx(stderr_exact).epsilon(1e-2));
    CHECK(std::abs(v[0].second - population) < 3 * v[1].second);
    CHECK(v[1].second > 0.01);  // the spread of the data is there to be measured
}

TEST_CASE("nll_bpd dequantizes 8-bit data by default with the run's seed, as negative_log_likelihood does") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, testing::test_context());
    const gaussian_denoiser model(vp, data_variance);
    std::vector<float> levels;
    for (int k : {100, 128, 140, 200, 60, 127, 130, 255, 0, 90, 180, 30}) levels.push_back(2.0f * k / 255.0f - 1.0f);
    const tensor data = tensor::from_vector({3, dims}, levels);
    metric_inputs in;
    in.reference = data;
    in.model = &model;
    in.seed = 5;
    const metric_values v = testing::build<nll_bpd_metric>("{count: 0, probe: gaussian, probes: 2}").compute(in);
    likelihood_options o;
    o.probe = "gaussian";
    o.probes = 2;
    o.dequantize = true;
    o.seed = 5;
    const likelihood_result r = negative_log_likelihood(model, data, o);
    const double mean = (r.bits_per_dim[0] + r.bits_per_dim[1] + r.bits_per_dim[2]) / 3;
    CHECK(value_of(v, "nll_bpd") == mean);
    // Its per-example values are the rows' own, in order, also integrated two at a time.
    CHECK(testing::build<nll_bpd_metric>("{count: 0, probe: gaussian, probes: 2}").per_example(in) == r.bits_per_dim);
    o.batch_size = 2;
    CHECK(testing::build<nll_bpd_metric>("{count: 0, probe: gaussian, probes: 2, batch_size: 2}").per_example(in) ==
          negative_log_likelihood(model, data, o).bits_per_dim);
    // The 7 bits/dim of the 8-bit bins are in: far above the continuous NLL at these points.
    CHECK(mean > 7.0);
    // Another seed draws other probes and other dequantization noise.
    in.seed = 6;
    CHECK(testing::build<nll_bpd_metric>("{count: 0, probe: gaussian, probes: 2}").compute(in)[0].second != mean);
    // One example: no spread to estimate a standard error from.
    const metric_values one = testing::build<nll_bpd_metric>("{count: 1}").compute(in);
    CHECK(value_of(one, "nll_bpd_stderr") == 0.0);
}

TEST_CASE("nll_bpd refuses a missing model, missing data and a count beyond the data") {
    const vp_sde vp({0.1, 20.0, 1e-3, 1e-5}, testing::test_context());
    const gaussian_denoiser model(vp, data_variance);
    auto metric = testing::build<nll_bpd_metric>();
    metric_inputs in;
    in.reference = tensor::zeros({300, dims});
    CHECK_THROWS_WITH_AS(metric.compute(in),
                         "error: nll_bpd: nll_bpd needs the trained model; it is computed by the harness of a run, not "
                         "on samples",
                         error);
    in.model = &model;
    in.reference = tensor::zeros({100, dims});
    CHECK_THROWS_WITH_AS(
        metric.compute(in),
        "error: nll_bpd: count 256 but the reference holds 100 examples; lower count, or set 0 for all of them", error);
    in.reference = tensor();
    CHECK_THROWS_AS(metric.compute(in), error);
    CHECK(metric.protocol() == metric_protocol{{"probes", "1"},
                                               {"probe", "rademacher"},
                                               {"rtol", "1e-05"},
                                               {"atol", "1e-05"},
                                               {"dequantize", "true"},
                                               {"count", "256"},
                                               {"batch_size", "1"}});
    CHECK_THROWS_AS(testing::build<nll_bpd_metric>("{probe: uniform}"), config_error);
    CHECK_THROWS_AS(testing::build<nll_bpd_metric>("{probes: 0}"), config_error);
}
