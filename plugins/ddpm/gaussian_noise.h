// SPDX-License-Identifier: Apache-2.0
// The 'gaussian' noise: standard normal draws from the counter-based generator.
#pragma once

#include <difflab/diffusion/noise.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

namespace difflab::plugins {

/// Standard Gaussian noise, the noise of every process in Ho et al. 2020 ("Denoising diffusion
/// probabilistic models"), Song & Ermon 2019 and Song et al. 2021: Philox draws turned normal
/// by Box-Muller (difflab::randn), so a draw depends only on its key, never on the batch.
class gaussian_noise final : public noise {
public:
    struct options {};
    static param_spec<options> params();
    gaussian_noise(const options& opts, build_context& ctx);

    tensor draw(const shape_t& shape, std::uint64_t seed, std::uint64_t purpose, std::uint64_t first_index,
                std::uint64_t step) const override;
};

}  // namespace difflab::plugins
