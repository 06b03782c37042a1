// SPDX-License-Identifier: Apache-2.0
// Pixel features: the tapped activations, upsampled and stacked; one noise draw for all images.
#include "pixel_features.h"

#include <difflab/diffusion/network.h>
#include <difflab/diffusion/process.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/network_testing.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <vector>

using namespace difflab;
using namespace difflab::plugins;
using difflab::testing::make;
using difflab::testing::relative_error;

TEST_CASE("pixel features stack each tap, upsampled to the image, for each time") {
    auto net = make<network>("{type: unet, channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1}");
    testing::randomize_parameters(*net);
    const auto p = make<process>("{type: ddpm, schedule: linear, steps: 1000}");
    const tensor images = randn({3, 1, 28, 28}, 1, random_purpose("images"));
    const feature_taps taps{{0.05, 0.25}, {"middle", "decoder.3"}};
    const tensor f = pixel_features(*net, *p, prediction::eps, 0.5, images, taps, 7);
    // middle: 16 channels at 14 x 14; decoder.3: 8 channels at 28 x 28; two times.
    CHECK(f.shape() == shape_t{3, 48, 28, 28});
    CHECK(feature_channels(*net, *p, prediction::eps, {1, 28, 28}, taps) == 48);

    // By hand at t = 0.05: the shared noise, x_t, the forward with taps, the bilinear upsampling.
    const tensor eps = randn({1, 1, 28, 28}, 7, random_purpose("features/noise"), 0, 0);
    std::vector<tensor> copies(3, eps);
    const tensor x_t =
        images * static_cast<float>(p->alpha(0.05)) + concat(copies, 0) * static_cast<float>(p->sigma(0.05));
    activation_taps kept({"middle", "decoder.3"});
    net->set_taps(&kept);
    net->forward(x_t, tensor::full({3}, 0.05f), {});
    net->set_taps(nullptr);
    const tensor middle = interpolate(kept.at("middle"), {28, 28}, "bilinear").contiguous();
    CHECK(relative_error(f.slice(1, 0, 16).contiguous(), middle) < 1e-5);
    CHECK(relative_error(f.slice(1, 16, 24).contiguous(), kept.at("decoder.3")) < 1e-5);
}

TEST_CASE("pixel features share one noise draw: equal images get equal features, alone or in a batch") {
    auto net = make<network>("{type: unet, channels: 8, groups: 4, channel_mult: [1, 2], num_res_blocks: 1}");
    testing::randomize_parameters(*net);
    const auto p = make<process>("{type: ddpm, schedule: linear, steps: 1000}");
    const tensor one = randn({1, 1, 28, 28}, 2, random_purpose("images"));
    const tensor twice = concat({one, one}, 0);
    const feature_taps taps{{0.15}, {"decoder.1"}};
    const tensor f = pixel_features(*net, *p, prediction::eps, 0.5, twice, taps, 7);
    CHECK(f.slice(0, 0, 1).contiguous().to_vector() == f.slice(0, 1, 2).contiguous().to_vector());
    CHECK(relative_error(pixel_features(*net, *p, prediction::eps, 0.5, one, taps, 7), f.slice(0, 0, 1).contiguous()) <
          1e-5);
    CHECK_THROWS_WITH(pixel_features(*net, *p, prediction::eps, 0.5, twice, {{0.15}, {"decoder.9"}}, 7),
                      doctest::Contains("no activation tap 'decoder.9'"));
}
