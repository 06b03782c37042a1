// SPDX-License-Identifier: Apache-2.0
// Full-reference image quality: PSNR and SSIM of predictions paired with their targets.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <vector>

namespace difflab::plugins {

/// Peak signal-to-noise ratio of each sample against the reference in the same row,
///     PSNR = 10 log10(data_range^2 / MSE)  (dB),
/// MSE over all values of the row (every channel), as skimage.metrics.peak_signal_noise_ratio
/// computes it; value "psnr" is the mean of the per-image PSNRs (not the PSNR of the mean MSE),
/// as super-resolution and inpainting papers report it (e.g. Saharia et al. 2022, "Image
/// super-resolution via iterative refinement"). A pair of identical images has MSE 0 and an
/// infinite PSNR, which would make the mean useless: each image's PSNR is capped at `max_db`.
/// Samples and reference are [N, ...] of the same shape, in [-1, 1] (data_range 2). No
/// denoiser evaluations.
class psnr_metric final : public metric {
public:
    struct options {
        double data_range = 2.0;
        double max_db = 100.0;
    };
    static param_spec<options> params();
    psnr_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
    /// The PSNR of each image, in order (what `psnr` averages): best-of-k selections rank by it.
    std::vector<double> per_example(const metric_inputs& in) override;
    metric_protocol protocol() const override;

    /// The per-image PSNRs (dB, capped at max_db) of `samples` against `reference`, shaped as
    /// compute() requires (unchecked here).
    std::vector<double> per_image(const tensor& samples, const tensor& reference) const;

private:
    options opts_;
};

/// Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004, "Image quality assessment:
/// from error visibility to structural similarity"), with the settings of
/// skimage.metrics.structural_similarity that papers use to match the original: Gaussian
/// weights with sigma 1.5 truncated at 3.5 sigma (an 11 x 11 window), population covariances,
/// K1 = 0.01, K2 = 0.03, C1 = (K1 L)^2, C2 = (K2 L)^2 with L = data_range. The SSIM map of each
/// channel is averaged after cropping (11 - 1) / 2 = 5 pixels from each side (skimage's crop,
/// which also makes its border mode irrelevant), the channels are averaged, and value "ssim" is
/// the mean over images. Samples and reference are [N, C, H, W] of the same shape with H, W >= 11.
/// No denoiser evaluations.
class ssim_metric final : public metric {
public:
    struct options {
        double data_range = 2.0;
    };
    static param_spec<options> params();
    ssim_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
    /// The SSIM of each image, in order (what `ssim` averages).
    std::vector<double> per_example(const metric_inputs& in) override;
    metric_protocol protocol() const override;

    /// The per-image SSIMs (mean over channels) of `samples` against `reference`, shaped as
    /// compute() requires (unchecked here).
    std::vector<double> per_image(const tensor& samples, const tensor& reference) const;

private:
    options opts_;
};

}  // namespace difflab::plugins
