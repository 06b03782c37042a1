// SPDX-License-Identifier: Apache-2.0
// Pixel features from a diffusion network's activations.
#include "pixel_features.h"

#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

namespace difflab::plugins {

namespace {

/// Clears the network's taps when the features are taken, however the call ends.
struct tapping {
    network& net;
    tapping(network& n, activation_taps& taps) : net(n) { net.set_taps(&taps); }
    ~tapping() { net.set_taps(nullptr); }
};

}  // namespace

tensor pixel_features(network& net, const process& p, prediction kind, double sigma_data, const tensor& images,
                      const feature_taps& taps, std::uint64_t seed, const noise* source) {
    if (images.dim() != 4 || taps.times.empty() || taps.names.empty())
        throw error(fmt::format("pixel_features: needs images [N, C, H, W] ({} given), times and tap names",
                                shape_text(images.shape())));
    const no_grad_guard no_grad;
    net.eval();
    activation_taps kept(taps.names);
    const tapping on(net, kept);
    const std::int64_t n = images.size(0), height = images.size(2), width = images.size(3);
    std::vector<tensor> parts;
    for (std::size_t k = 0; k < taps.times.size(); ++k) {
        const double t = taps.times[k];
        // One draw for every image: the key does not involve the image.
        const tensor shared =
            draw_noise(source, {1, images.size(1), height, width}, seed, random_purpose("features/noise"), 0, k);
        std::vector<tensor> copies(static_cast<std::size_t>(n), shared);
        const tensor x_t = images * static_cast<float>(p.alpha(t)) + concat(copies, 0) * static_cast<float>(p.sigma(t));
        const preconditioning c = precondition(kind, p, t, sigma_data);
        net.forward(x_t * static_cast<float>(c.c_in), tensor::full({n}, static_cast<float>(c.c_noise)), condition{});
        for (const std::string& name : taps.names) {
            const tensor& a = kept.at(name);
            parts.push_back(a.size(2) == height && a.size(3) == width ? a
                                                                      : interpolate(a, {height, width}, "bilinear"));
        }
    }
    return concat(parts, 1).contiguous();
}

std::int64_t feature_channels(network& net, const process& p, prediction kind, const shape_t& example,
                              const feature_taps& taps) {
    shape_t one{1};
    one.insert(one.end(), example.begin(), example.end());
    const feature_taps first{{taps.times.front()}, taps.names};
    return static_cast<std::int64_t>(taps.times.size()) *
           pixel_features(net, p, kind, 0.5, tensor::zeros(one), first, 0).size(1);
}

}  // namespace difflab::plugins
