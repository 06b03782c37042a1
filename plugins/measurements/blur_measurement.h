// SPDX-License-Identifier: Apache-2.0
// The 'blur' measurement: a separable Gaussian blur (deblurring).
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>

#include "separable_measurement.h"

namespace difflab::plugins {

/// The Gaussian deblurring operator of DDRM (Kawar et al. 2022): every channel convolved with a
/// `size`-tap kernel exp(-t^2 / (2 sigma^2)), t = -(size-1)/2 .. (size-1)/2, normalized to sum 1,
/// along H and then along W; y keeps the example's shape. Taps outside the image read zero (as
/// DDRM's Deblurring; a constant image darkens near the border) or, with boundary: symmetric,
/// the image mirrored with the edge pixel repeated. DDRM also zeroes the 1-D singular values
/// below 3e-2 (`cutoff`), which keeps its restoration from dividing by near-zero values.
class blur_measurement final : public separable_measurement {
public:
    struct options {
        double sigma = 3.0;
        std::int64_t size = 9;
        std::string boundary = "zero";
        double cutoff = 0.0;
        double noise_std = 0.0;
    };
    static param_spec<options> params();
    blur_measurement(const options& opts, build_context& ctx);

    double noise_std() const override { return opts_.noise_std; }

private:
    Eigen::MatrixXd axis_matrix(std::int64_t length, const shape_t& example) const override;
    std::string label() const override { return "measurement 'blur'"; }
    double cutoff() const override { return opts_.cutoff; }

    options opts_;
};

}  // namespace difflab::plugins
