// SPDX-License-Identifier: Apache-2.0
// The 'gmm' dataset: samples of a Gaussian mixture in any shape, with the exact mixture at hand.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gaussian_mixture.h"

namespace difflab::plugins {

/// Examples drawn from a Gaussian mixture, points ([2]) or small images ([1, 8, 8]) alike:
/// example i comes from the Philox stream (seed, "gmm/example", i), its label is its component.
/// Weights, means and covariances come from YAML, or are drawn from `seed` (means N(0, spread^2),
/// covariances isotropic, diagonal or full with scale `scale`).
class gmm_dataset final : public dataset {
public:
    struct options {
        std::vector<std::int64_t> shape{2};
        std::int64_t size = 10000;
        std::int64_t components = 8;
        std::vector<double> weights;
        std::vector<std::vector<double>> means;
        std::vector<std::vector<double>> covariances;  ///< each D x D, row-major
        double spread = 2.0;
        double scale = 0.3;
        std::string covariance = "full";
        std::int64_t seed = 0;
    };
    static param_spec<options> params();

    gmm_dataset(const options& opts, build_context& ctx);

    std::int64_t size() const override { return opts_.size; }
    shape_t example_shape() const override { return opts_.shape; }
    example_batch get(const std::vector<std::int64_t>& indices) const override;

    const gaussian_mixture& mixture() const { return mixture_; }

private:
    options opts_;
    gaussian_mixture mixture_;
};

}  // namespace difflab::plugins
