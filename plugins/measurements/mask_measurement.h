// SPDX-License-Identifier: Apache-2.0
// The 'mask' measurement: the observed pixels of an image (inpainting).
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Inpainting's operator: H keeps the entries where a mask is 1 (observed) and drops those
/// where it is 0 (missing), as in RePaint (Lugmayr et al. 2022) and DDRM (Kawar et al. 2022).
///
/// y keeps the example's shape, with zeros where x is missing: H = diag(mask), M = D, so
/// H^T = H^+ = H and replacement inpainting is x_known = H^T y = y. DDRM keeps only the observed
/// values (M = number observed); the same-shape y costs nothing in the SVD (the missing entries
/// get singular value 0), keeps y an image that can be shown and saved, and lets a mask change
/// without changing the measured shape. The SVD is a permutation: V^T x = U^T x lists the observed
/// entries in row-major order, then the missing ones; s is 1 for each observed entry, then 0.
///
/// The mask comes from the options (`missing`, one region shared by every channel and example;
/// `observed_frames`, whole frames of a video [C, F, H, W], for video prediction and infilling) or
/// from set_mask.
class mask_measurement final : public measurement {
public:
    struct options {
        std::string missing = "center";
        std::vector<std::int64_t> box;
        double fraction = 0.5;
        std::vector<std::int64_t> observed_frames;
        std::int64_t seed = -1;
        double noise_std = 0.0;
    };
    static param_spec<options> params();
    mask_measurement(const options& opts, build_context& ctx);

    double noise_std() const override { return opts_.noise_std; }

    /// Replaces the options' region by `mask` (1 observed, 0 missing, nothing else): of the
    /// example's shape, or [1, H, W] for images [C, H, W] (one mask for every channel). On a
    /// bound operator it rebinds at once (a mask that does not fit throws a config_error and
    /// leaves the operator as it was); otherwise the next bind checks its shape.
    void set_mask(const tensor& mask);
    /// The bound mask, [...example]: 1 where observed, 0 where missing.
    tensor observed() const;

private:
    binding prepare(const shape_t& example_shape) override;
    /// 1 observed, 0 missing, for every entry of `example`, from the options or set_mask.
    std::vector<float> mask_for(const shape_t& example) const;
    /// 1 on every entry of the observed_frames of a video [C, F, H, W], 0 elsewhere.
    std::vector<float> frame_mask(const shape_t& example) const;
    tensor do_apply(const tensor& x) const override;
    tensor do_adjoint(const tensor& y) const override { return do_apply(y); }
    tensor do_pseudo_inverse(const tensor& y) const override { return do_apply(y); }
    tensor do_v_transpose(const tensor& x) const override;
    tensor do_v(const tensor& coefficients) const override;
    tensor do_u_transpose(const tensor& y) const override { return do_v_transpose(y); }
    tensor do_u(const tensor& coefficients) const override { return do_v(coefficients); }

    options opts_;
    std::uint64_t seed_;
    tensor custom_;
    std::vector<float> keep_;          ///< per entry of an example: 1 observed, 0 missing
    std::vector<std::int64_t> order_;  ///< entry of spectral coefficient i: observed first, then missing
};

}  // namespace difflab::plugins
