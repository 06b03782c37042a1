// SPDX-License-Identifier: Apache-2.0
// The 'resize' measurement: antialiased cubic (or linear) downsampling, ILVR's low-pass filter.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>

#include "separable_measurement.h"

namespace difflab::plugins {

/// Downsampling by an integer factor k with an antialiased interpolation kernel, the operator of
/// ILVR (Choi et al. 2021, "ILVR: Conditioning method for denoising diffusion probabilistic
/// models"), whose low-pass filter phi_N(x) = up(down(x)) is a resize pair. H reproduces the
/// downsampling of the resizer ILVR uses (Shocher's resizer.py, after MATLAB's imresize): output
/// pixel i sits at input coordinate (i + 1/2) k - 1/2 (pixel centers aligned), the kernel is
/// Keys' cubic (a = -1/2) or the linear hat, stretched by k when shrinking (antialiasing), each
/// row's weights are normalized to sum 1, and taps outside the image are mirrored with the edge
/// pixel repeated. The same 1-D matrix acts along H and W.
///
/// The "up" of the pair is H^+ (pseudo_inverse): H^+ H is the orthogonal projection onto the
/// row space of H, the low frequencies that the downsampler keeps, so that ILVR's update
/// x - H^+ H x + H^+ y replaces exactly what y determines. ILVR's own up is a cubic upsampler,
/// which is close to, but not, a projection.
class resize_measurement final : public separable_measurement {
public:
    struct options {
        std::int64_t factor = 4;
        std::string kernel = "cubic";
        double noise_std = 0.0;
    };
    static param_spec<options> params();
    resize_measurement(const options& opts, build_context& ctx);

    double noise_std() const override { return opts_.noise_std; }

private:
    Eigen::MatrixXd axis_matrix(std::int64_t length, const shape_t& example) const override;
    std::string label() const override { return "measurement 'resize'"; }

    options opts_;
};

}  // namespace difflab::plugins
