// SPDX-License-Identifier: Apache-2.0
// PSNR and SSIM (Wang et al. 2004) with skimage's conventions.
#include "image_quality_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "metric_input_checks.h"

namespace difflab::plugins {

namespace {

/// The checks of the paired images both metrics share.
void check_pair(const metric_inputs& in, const std::string& name) {
    require_input(in.samples, name, "samples", "the predicted images [N, ...] in [-1, 1]");
    require_input(in.reference, name, "reference", "the target images [N, ...] in [-1, 1], row by row");
    require_same_shape(in.samples, in.reference, name, name + " pairs them row by row");
}

double mean_of(const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// skimage with gaussian_weights=True: sigma 1.5, truncate 3.5, radius int(3.5 * 1.5 + 0.5) = 5.
constexpr double ssim_sigma = 1.5;
constexpr int ssim_radius = 5;
constexpr int ssim_window = 2 * ssim_radius + 1;
constexpr double ssim_k1 = 0.01, ssim_k2 = 0.03;

/// scipy.ndimage's 1-D Gaussian weights: exp(-x^2 / (2 sigma^2)) for |x| <= radius, summing to 1.
std::array<double, ssim_window> gaussian_weights() {
    std::array<double, ssim_window> w{};
    for (int k = -ssim_radius; k <= ssim_radius; ++k)
        w[static_cast<std::size_t>(k + ssim_radius)] = std::exp(-0.5 * k * k / (ssim_sigma * ssim_sigma));
    const double total = std::accumulate(w.begin(), w.end(), 0.0);
    for (double& v : w) v /= total;
    return w;
}

/// Mean SSIM of one channel (h x w, row-major) over the map cropped by the window radius. Only
/// the cropped part of each filtered image is computed: there the window lies inside the image.
double channel_ssim(const double* x, const double* y, std::int64_t h, std::int64_t w, double data_range) {
    static const std::array<double, ssim_window> g = gaussian_weights();
    const std::int64_t oh = h - 2 * ssim_radius, ow = w - 2 * ssim_radius;
    // Horizontal pass over every row, for the output columns: x, y, xx, yy, xy.
    std::vector<std::array<double, 5>> rows(static_cast<std::size_t>(h * ow));
    for (std::int64_t r = 0; r < h; ++r)
        for (std::int64_t c = 0; c < ow; ++c) {
            std::array<double, 5> s{};
            for (int k = 0; k < ssim_window; ++k) {
                const double a = x[r * w + c + k], b = y[r * w + c + k], wk = g[static_cast<std::size_t>(k)];
                s[0] += wk * a;
                s[1] += wk * b;
                s[2] += wk * a * a;
                s[3] += wk * b * b;
                s[4] += wk * a * b;
            }
            rows[static_cast<std::size_t>(r * ow + c)] = s;
        }
    const double c1 = (ssim_k1 * data_range) * (ssim_k1 * data_range);
    const double c2 = (ssim_k2 * data_range) * (ssim_k2 * data_range);
    double total = 0;
    for (std::int64_t r = 0; r < oh; ++r)
        for (std::int64_t c = 0; c < ow; ++c) {
            std::array<double, 5> m{};
            for (int k = 0; k < ssim_window; ++k) {
                const auto& s = rows[static_cast<std::size_t>((r + k) * ow + c)];
                for (std::size_t q = 0; q < 5; ++q) m[q] += g[static_cast<std::size_t>(k)] * s[q];
            }
            const double vx = m[2] - m[0] * m[0], vy = m[3] - m[1] * m[1], vxy = m[4] - m[0] * m[1];
            total += (2 * m[0] * m[1] + c1) * (2 * vxy + c2) / ((m[0] * m[0] + m[1] * m[1] + c1) * (vx + vy + c2));
        }
    return total / static_cast<double>(oh * ow);
}

}  // namespace

// --- psnr ------------------------------------------------------------------------------------

param_spec<psnr_metric::options> psnr_metric::params() {
    param_spec<options> spec{
        "Peak signal-to-noise ratio (dB) of samples against the reference row by row; the mean over images."};
    spec.add(&options::data_range, "data_range", "Width of the value range: 2 for images in [-1, 1].",
             greater_than(0.0));
    spec.add(&options::max_db, "max_db",
             "Cap on each image's PSNR (identical images have an infinite PSNR, which would make the mean useless).",
             greater_than(0.0));
    return spec;
}

psnr_metric::psnr_metric(const options& opts, build_context&) : opts_(opts) {}

std::vector<double> psnr_metric::per_image(const tensor& samples, const tensor& reference) const {
    const std::vector<double> s = values_of(samples), r = values_of(reference);
    const auto n = static_cast<std::size_t>(samples.size(0)), d = s.size() / n;
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        double square = 0;
        for (std::size_t j = i * d; j < (i + 1) * d; ++j) square += (s[j] - r[j]) * (s[j] - r[j]);
        const double mse = square / static_cast<double>(d);
        // mse 0 gives +inf from log10, which the cap turns into max_db.
        out[i] = std::min(10.0 * std::log10(opts_.data_range * opts_.data_range / mse), opts_.max_db);
    }
    return out;
}

metric_values psnr_metric::compute(const metric_inputs& in) {
    return {{"psnr", mean_of(per_example(in))}};
}

std::vector<double> psnr_metric::per_example(const metric_inputs& in) {
    check_pair(in, "psnr");
    return per_image(in.samples, in.reference);
}

metric_protocol psnr_metric::protocol() const {
    return {{"data_range", fmt::format("{}", opts_.data_range)}, {"max_db", fmt::format("{}", opts_.max_db)}};
}

// --- ssim ------------------------------------------------------------------------------------

param_spec<ssim_metric::options> ssim_metric::params() {
    param_spec<options> spec{
        "Structural similarity (Wang et al. 2004) with skimage's Gaussian-window settings; the mean over images."};
    spec.add(&options::data_range, "data_range", "Width of the value range: 2 for images in [-1, 1].",
             greater_than(0.0));
    return spec;
}

ssim_metric::ssim_metric(const options& opts, build_context&) : opts_(opts) {}

std::vector<double> ssim_metric::per_image(const tensor& samples, const tensor& reference) const {
    const std::int64_t n = samples.size(0), channels = samples.size(1), h = samples.size(2), w = samples.size(3);
    const std::vector<double> s = values_of(samples), r = values_of(reference);
    std::vector<double> out(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        double total = 0;
        for (std::int64_t c = 0; c < channels; ++c) {
            const std::size_t at = static_cast<std::size_t>((i * channels + c) * h * w);
            total += channel_ssim(s.data() + at, r.data() + at, h, w, opts_.data_range);
        }
        out[static_cast<std::size_t>(i)] = total / static_cast<double>(channels);
    }
    return out;
}

metric_values ssim_metric::compute(const metric_inputs& in) {
    return {{"ssim", mean_of(per_example(in))}};
}

std::vector<double> ssim_metric::per_example(const metric_inputs& in) {
    check_pair(in, "ssim");
    const shape_t& shape = in.samples.shape();
    if (shape.size() != 4 || shape[2] < ssim_window || shape[3] < ssim_window)
        throw error(fmt::format("ssim: samples {} must be images [N, C, H, W] with H and W at least {} (the "
                                 "Gaussian window of sigma 1.5)",
                                shape_text(shape), ssim_window));
    return per_image(in.samples, in.reference);
}

metric_protocol ssim_metric::protocol() const {
    return {{"data_range", fmt::format("{}", opts_.data_range)},
            {"window", "gaussian sigma 1.5, 11x11, population covariance, K1 0.01, K2 0.03, crop 5"}};
}

}  // namespace difflab::plugins
