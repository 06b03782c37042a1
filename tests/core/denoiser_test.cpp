// SPDX-License-Identifier: Apache-2.0
// Tests of the parametrizations (eps, x0, v, score, EDM) and the denoiser's conversions.
#include <difflab/base/error.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/tensor/ops.h>
#include <difflab/testing/test_processes.h>
#include <doctest/doctest.h>

#include <cmath>
#include <memory>

using namespace difflab;

using difflab::testing::cosine_vp;

namespace {

/// Processes with closed-form schedules, one of each family.
class linear_ve final : public process {
public:
    double alpha(double) const override { return 1.0; }
    double sigma(double t) const override { return 0.002 + 80 * t; }
    double t_min() const override { return 0.0; }
};
class scaled final : public process {  // neither VP nor VE: x = e^-t x0 + (t + 0.01) eps
public:
    double alpha(double t) const override { return std::exp(-t); }
    double sigma(double t) const override { return t + 0.01; }
    double t_min() const override { return 0.0; }
};

tensor values(std::vector<float> v) {
    return tensor::from_vector({1, static_cast<std::int64_t>(v.size())}, v);
}

void check_close(const tensor& a, const tensor& b, double tolerance) {
    const auto x = a.to_vector(), y = b.to_vector();
    REQUIRE(x.size() == y.size());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(x[i] == doctest::Approx(y[i]).epsilon(tolerance).scale(1.0));
}

/// Exact denoiser for Gaussian data N(0, v I): E[x0 | x] = a v / (a^2 v + s^2) x.
class gaussian_oracle final : public denoiser {
public:
    gaussian_oracle(const process& p, double variance) : denoiser(p), variance_(variance) {}

protected:
    tensor denoise(const tensor& x, double t) const override {
        const double a = diffusion_process().alpha(t), s = diffusion_process().sigma(t);
        return x * static_cast<float>(a * variance_ / (a * a * variance_ + s * s));
    }

private:
    double variance_;
};

}  // namespace

TEST_CASE("each parametrization maps its ideal network output back to x0") {
    const tensor x0 = values({0.3f, -1.2f, 0.8f}), eps = values({-0.5f, 1.1f, 0.2f});
    const cosine_vp vp;
    const linear_ve ve;
    const scaled other;
    for (const process* p : std::vector<const process*>{&vp, &ve, &other}) {
        for (double t : {0.05, 0.3, 0.7}) {
            const float a = static_cast<float>(p->alpha(t)), s = static_cast<float>(p->sigma(t));
            const tensor x = x0 * a + eps * s;
            const std::vector<std::pair<prediction, tensor>> ideal{{prediction::eps, eps},
                                                                   {prediction::x0, x0},
                                                                   {prediction::v, eps * a - x0 * s},
                                                                   {prediction::score, eps * (-1.0f / s)}};
            for (const auto& [kind, output] : ideal) {
                CAPTURE(prediction_name(kind));
                CAPTURE(t);
                const preconditioning c = precondition(kind, *p, t);
                CHECK(c.c_in == 1.0);
                CHECK(c.c_noise == t);
                check_close(x * static_cast<float>(c.c_skip) + output * static_cast<float>(c.c_out), x0, 2e-5);
            }
        }
    }
}

TEST_CASE("EDM preconditioning has the paper's coefficients at alpha = 1") {
    const linear_ve ve;
    const double t = (0.5 - 0.002) / 80;  // sigma = sigma_data = 0.5
    const preconditioning c = precondition(prediction::edm, ve, t, 0.5);
    CHECK(c.c_skip == doctest::Approx(0.5));
    CHECK(c.c_out == doctest::Approx(0.5 / std::sqrt(2.0)));
    CHECK(c.c_in == doctest::Approx(1 / (0.5 * std::sqrt(2.0))));
    CHECK(c.c_noise == doctest::Approx(std::log(0.5) / 4));
}

TEST_CASE("EDM preconditioning on a scaled process acts on x / alpha with noise level sigma / alpha") {
    const scaled p;
    const double t = 0.4, a = p.alpha(t), level = p.sigma(t) / a, d = 0.5;
    const tensor x0 = values({0.3f, -1.2f}), x = values({0.9f, -0.4f});
    // Karras et al. eq. 7: D(x) = c_skip(level) x / a + c_out(level) F(c_in(level) x / a).
    const double skip = d * d / (level * level + d * d), out = level * d / std::sqrt(level * level + d * d);
    const tensor ideal = (x0 - x * static_cast<float>(skip / a)) * static_cast<float>(1 / out);
    const preconditioning c = precondition(prediction::edm, p, t, d);
    check_close(x * static_cast<float>(c.c_skip) + ideal * static_cast<float>(c.c_out), x0, 1e-5);
    CHECK(c.c_in == doctest::Approx(1 / (a * std::sqrt(level * level + d * d))));
}

TEST_CASE("the denoiser's eps and score follow from x0, and every call counts as an evaluation") {
    const cosine_vp p;
    const gaussian_oracle oracle(p, 2.0);  // data N(0, 2 I)
    const tensor x = values({1.0f, -2.0f, 0.5f});
    const double t = 0.6, a = p.alpha(t), s = p.sigma(t), marginal = a * a * 2.0 + s * s;
    // The score of x_t ~ N(0, (a^2 v + s^2) I) is -x / (a^2 v + s^2).
    check_close(oracle.score(x, t), x * static_cast<float>(-1 / marginal), 1e-5);
    check_close(oracle.eps(x, t), x * static_cast<float>(s / marginal), 1e-5);
    CHECK(oracle.evaluations() == 2);
    oracle.x0(x, t);
    CHECK(oracle.evaluations() == 3);
    oracle.reset_evaluations();
    CHECK(oracle.evaluations() == 0);
}

TEST_CASE("prediction names parse and unknown ones are refused with the choices") {
    for (const char* name : {"eps", "x0", "v", "score", "edm"})
        CHECK(prediction_name(parse_prediction(name)) == std::string(name));
    CHECK_THROWS_WITH_AS(parse_prediction("epsilon"),
                         "error: unknown prediction type 'epsilon'; valid: eps, x0, v, score, edm", config_error);
}
