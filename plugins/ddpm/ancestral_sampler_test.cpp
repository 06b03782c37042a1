// SPDX-License-Identifier: Apache-2.0
// Tests of ancestral DDPM sampling with the exact Gaussian denoiser.
#include "ancestral_sampler.h"

#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <cmath>

#include "ddim_sampler.h"
#include "ddpm_process.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

double variance_of(const std::vector<float>& samples) {
    double mean = 0, square = 0;
    const auto n = static_cast<double>(samples.size());
    for (float s : samples) {
        mean += s / n;
        square += static_cast<double>(s) * s / n;
    }
    return square - mean * mean;
}

}  // namespace

TEST_CASE("the posterior (small) variance gives DDIM with eta = 1, draw for draw") {
    const auto p = testing::build<ddpm_process>("{steps: 1000}");
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({8, 3}, 1, random_purpose("prior"));
    sampling_context ctx;
    ctx.seed = 2;
    const auto a = testing::build<ancestral_sampler>("{steps: 50}").sample(d, x_T, ctx).to_vector();
    const auto b = testing::build<ddim_sampler>("{steps: 50, eta: 1}").sample(d, x_T, ctx).to_vector();
    for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-4).scale(1.0));
}

TEST_CASE("both variances sample the data distribution with many steps, large adds a little") {
    const auto p = testing::build<ddpm_process>("{steps: 1000}");
    const double v = 0.25;
    const gaussian_denoiser d(p, v);
    const tensor x_T = randn({4000, 1}, 7, random_purpose("prior"));
    sampling_context ctx;
    ctx.seed = 3;
    const double small = variance_of(testing::build<ancestral_sampler>("{steps: 200}").sample(d, x_T, ctx).to_vector());
    const double large =
        variance_of(testing::build<ancestral_sampler>("{steps: 200, variance: large}").sample(d, x_T, ctx).to_vector());
    CHECK(small == doctest::Approx(v).epsilon(0.08));
    CHECK(large == doctest::Approx(v).epsilon(0.12));
    CHECK(large > small);
}
