// SPDX-License-Identifier: Apache-2.0
// The 'toy2d' dataset: two moons, swiss roll, checkerboard and rings, the usual 2-D test sets.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <array>
#include <cstdint>
#include <string>

namespace difflab::plugins {

/// Points in the plane from the shapes that diffusion and flow papers test on: scikit-learn's
/// two moons and 2-D swiss roll (Pedregosa et al. 2011, "Scikit-learn: machine learning in
/// Python"; the swiss roll is Sohl-Dickstein et al. 2015's first diffusion example) and
/// FFJORD's checkerboard and rings (Grathwohl et al. 2019, "FFJORD: free-form continuous
/// dynamics for scalable reversible generative models"). Each shape is centered and scaled by
/// one factor so that its per-axis variance averages 1 (shape kept, not whitened); then
/// N(0, noise^2) is added to each coordinate. Example i comes from the Philox stream (seed,
/// "toy2d/example", i), so it never depends on the batch. Labels: moons 0 (upper) / 1 (lower),
/// rings 0 (inner) .. 3, checkerboard the filled square 0..7, swiss roll 0. Drawing spends no
/// denoiser evaluations.
class toy2d_dataset final : public dataset {
public:
    struct options {
        std::string kind = "moons";
        std::int64_t size = 10000;
        double noise = 0.05;
        std::int64_t seed = 0;
    };
    static param_spec<options> params();

    toy2d_dataset(const options& opts, build_context& ctx);

    std::int64_t size() const override { return opts_.size; }
    shape_t example_shape() const override { return {2}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override;

    /// The affine map from the noiseless shape in its own coordinates (scikit-learn's moons and
    /// swiss roll, the checkerboard on [-2, 2]^2, rings of radii 0.25, 0.5, 0.75, 1) to the
    /// data: a point is (raw - center()) * scale() + noise.
    std::array<double, 2> center() const { return center_; }
    double scale() const { return scale_; }

private:
    options opts_;
    std::array<double, 2> center_{};
    double scale_ = 1;
};

}  // namespace difflab::plugins
