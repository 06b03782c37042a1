// SPDX-License-Identifier: Apache-2.0
// Dynamic thresholding of the denoised estimate, for large guidance scales.
#pragma once

#include <difflab/diffusion/denoiser.h>

namespace difflab {

/// Dynamic thresholding (Saharia et al. 2022, Imagen, Sec. 2.3): per sample, s = the
/// `percentile` quantile of |x0|, at least 1; x0 is clamped to [-s, s] and divided by s. Large
/// guidance scales push x0 beyond the data range [-1, 1]; this pulls saturated pixels back
/// inwards instead of clipping them (static thresholding is s = 1).
class dynamic_thresholding final : public denoiser {
public:
    /// `percentile` in (0, 1] (Imagen: 0.995).
    dynamic_thresholding(const denoiser& inner, double percentile);

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    const denoiser& inner_;
    double percentile_;
};

}  // namespace difflab
