// SPDX-License-Identifier: Apache-2.0
// Pixel features from a diffusion network's activations (Baranchuk et al. 2022).
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/process.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Which activations become features, and where the network reads them.
struct feature_taps {
    std::vector<double> times;       ///< the times t of x_t (Baranchuk et al.: t = 50, 150, 250 of 1000)
    std::vector<std::string> names;  ///< network::tap_names entries, e.g. the U-Net's "decoder.2"
};

/// Per-pixel features of `images` [N, C, H, W] (Baranchuk et al. 2022, "Label-efficient semantic
/// segmentation with diffusion models"): for each time t (k-th of `taps.times`), x_t = alpha x +
/// sigma eps with one noise draw eps shared by every image (Baranchuk et al. fix the noise; the
/// draw is `source`'s with key (seed, "features/noise", 0, k)), the network's forward on c_in x_t
/// at c_noise(t) for the `kind` parametrization, each tapped activation upsampled bilinearly to
/// H x W; all of them concatenated along channels in (t, name) order: [N, F, H, W]. Memory is
/// the caller's: featurize images in batches (F H W floats per image; feature_channels says F).
tensor pixel_features(network& net, const process& p, prediction kind, double sigma_data, const tensor& images,
                      const feature_taps& taps, std::uint64_t seed, const noise* source = nullptr);

/// F, the channels pixel_features gives for one image of `example` shape [C, H, W], found with a
/// forward call on zeros at each tap's resolution.
std::int64_t feature_channels(network& net, const process& p, prediction kind, const shape_t& example,
                              const feature_taps& taps);

}  // namespace difflab::plugins
