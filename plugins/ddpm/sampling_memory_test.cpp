// SPDX-License-Identifier: Apache-2.0
// The sampling loop reuses its memory: after the first steps no step takes new memory from the system.
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/precision.h>
#include <difflab/tensor/random.h>
#include <difflab/tensor/storage_cache.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ancestral_sampler.h"
#include "ddim_sampler.h"
#include "ddpm_process.h"

using namespace difflab;
using namespace difflab::plugins;

namespace {

/// The exact Gaussian denoiser plus a small convolution of x in NCHW layout, so that every
/// evaluation runs a oneDNN convolution with its reorders into and out of the blocked layout
/// (the work buffers a U-Net's convolutions take), and records the storage cache's misses
/// (allocations that went to the system) at each call.
class conv_denoiser final : public denoiser {
public:
    explicit conv_denoiser(const process& p)
        : denoiser(p),
          exact_(p, 0.25),
          weight_(randn({8, 8, 3, 3}, 1, random_purpose("test.weight")) * 0.01f),
          bias_(tensor::zeros({8})) {}

    mutable std::vector<std::size_t> misses;

protected:
    tensor denoise(const tensor& x, double t) const override {
        misses.push_back(storage_cache_stats().misses);
        conv_options padded;
        padded.padding = 1;
        return exact_.x0(x, t) + conv2d(x, weight_, bias_, padded);
    }

private:
    gaussian_denoiser exact_;
    tensor weight_, bias_;
};

/// Sets the cache's limit for one test (sanitizer builds run without a cache) and puts the
/// previous one back.
struct cache_limit {
    explicit cache_limit(std::size_t bytes) : previous(storage_cache_limit()) { set_storage_cache_limit(bytes); }
    ~cache_limit() {
        set_storage_cache_limit(previous);
        release_storage_cache();
    }
    std::size_t previous;
};

}  // namespace

TEST_CASE("DDIM and ancestral sampling take no new memory from the system after their first steps") {
    const cache_limit limit(std::size_t{256} << 20);
    const ddpm_process p({100, "linear", 1e-4, 0.02, 0.008, "fixed_small"}, testing::test_context());
    const tensor x_T = randn({4, 8, 12, 12}, 2, random_purpose("test.x_T"));
    for (const std::string sampler : {"ddim", "ddim_eta_1", "ancestral"}) {
        for (const dtype precision : {dtype::f32, dtype::bf16}) {
            CAPTURE(sampler);
            const bool bf16 = precision == dtype::bf16;
            CAPTURE(bf16);
            const precision_scope compute(precision);
            const conv_denoiser d(p);
            sampling_context ctx;
            ctx.seed = 3;
            const tensor x =
                sampler == "ancestral"
                    ? testing::build<ancestral_sampler>("{steps: 12}").sample(d, x_T, ctx)
                    : testing::build<ddim_sampler>(sampler == "ddim" ? "{steps: 12}" : "{steps: 12, eta: 1.0}")
                          .sample(d, x_T, ctx);
            CHECK(x.shape() == x_T.shape());
            REQUIRE(d.misses.size() == 12);
            // The first steps fill the cache (and create the primitives); from the third on,
            // each step's buffers are blocks freed by the step before.
            CHECK(d.misses.back() == d.misses[2]);
            CHECK(storage_cache_stats().misses == d.misses[2]);
        }
    }
}
