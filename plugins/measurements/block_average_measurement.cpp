// SPDX-License-Identifier: Apache-2.0
// The 'block_average' measurement.
#include "block_average_measurement.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <cstddef>
#include <vector>

#include "measurement_common.h"

namespace difflab::plugins {

namespace {

// Q v for the Householder reflection Q = I - 2 w w^T / (w^T w), w = e_1 - 1/k (k^2 values):
// Q e_1 is the constant 1/k, and Q = Q^T = Q^-1. The identity when k = 1.
void reflect(std::vector<double>& v, std::int64_t k) {
    if (k == 1) return;
    const double u = 1.0 / static_cast<double>(k);
    double dot = v[0];  // w . v
    for (double x : v) dot -= u * x;
    const double scale = 2.0 * dot / (2.0 - 2.0 * u);  // w . w = 2 - 2/k
    v[0] -= scale;
    for (double& x : v) x += scale * u;
}

}  // namespace

param_spec<block_average_measurement::options> block_average_measurement::params() {
    param_spec<options> spec{
        "Super-resolution by block averaging (Saharia et al. 2022, SR3; Kawar et al. 2022, DDRM): the mean of every "
        "factor x factor block, [C, H, W] -> [C, H/factor, W/factor]."};
    spec.add(&options::factor, "factor", "Block side k; H and W must be multiples of it.", at_least<std::int64_t>(1));
    add_noise_std(spec);
    return spec;
}

block_average_measurement::block_average_measurement(const options& opts, build_context&) : opts_(opts) {}

measurement::binding block_average_measurement::prepare(const shape_t& example_shape) {
    const image_size image = image_example(example_shape, "measurement 'block_average'");
    const std::int64_t k = opts_.factor;
    if (image.height % k != 0 || image.width % k != 0)
        throw config_error(
            fmt::format("measurement 'block_average': examples {} are not a whole number of {}x{} "
                        "blocks; choose a factor that divides both {} and {}, or resize the data",
                        shape_text(example_shape), k, k, image.height, image.width));
    channels_ = image.channels;
    height_ = image.height;
    width_ = image.width;
    const shape_t measured{channels_, height_ / k, width_ / k};
    return {measured,
            std::vector<double>(static_cast<std::size_t>(shape_numel(measured)), 1.0 / static_cast<double>(k))};
}

template <class Visit>
void block_average_measurement::each_pixel(std::int64_t n, Visit visit) const {
    const std::int64_t k = opts_.factor, h = height_ / k, w = width_ / k;
    for (std::int64_t e = 0; e < n; ++e)
        for (std::int64_t c = 0; c < channels_; ++c)
            for (std::int64_t i = 0; i < h; ++i)
                for (std::int64_t j = 0; j < w; ++j)
                    for (std::int64_t a = 0; a < k; ++a)
                        for (std::int64_t b = 0; b < k; ++b)
                            visit(e, (c * h + i) * w + j, a * k + b,
                                  ((e * channels_ + c) * height_ + i * k + a) * width_ + j * k + b);
}

tensor block_average_measurement::do_apply(const tensor& x) const {
    const std::int64_t n = x.size(0), m = measured_size(), k = opts_.factor;
    std::vector<double> sums(static_cast<std::size_t>(n * m), 0.0);
    const float* in = x.data<float>();
    each_pixel(n, [&](std::int64_t e, std::int64_t block, std::int64_t, std::int64_t pixel) {
        sums[static_cast<std::size_t>(e * m + block)] += in[pixel];
    });
    tensor out = tensor::empty({n, m});
    float* o = out.data<float>();
    for (std::size_t i = 0; i < sums.size(); ++i) o[i] = static_cast<float>(sums[i] / static_cast<double>(k * k));
    return out;
}

tensor block_average_measurement::do_adjoint(const tensor& y) const {
    const std::int64_t n = y.size(0), m = measured_size(), k = opts_.factor;
    tensor out = tensor::empty({n, example_size()});
    const float* in = y.data<float>();
    float* o = out.data<float>();
    const double scale = 1.0 / static_cast<double>(k * k);
    each_pixel(n, [&](std::int64_t e, std::int64_t block, std::int64_t, std::int64_t pixel) {
        o[pixel] = static_cast<float>(in[e * m + block] * scale);
    });
    return out;
}

tensor block_average_measurement::do_pseudo_inverse(const tensor& y) const {
    // H H^T = I / k^2, so H^+ = H^T (H H^T)^-1 = k^2 H^T: each value repeated over its block.
    const std::int64_t n = y.size(0), m = measured_size();
    tensor out = tensor::empty({n, example_size()});
    const float* in = y.data<float>();
    float* o = out.data<float>();
    each_pixel(
        n, [&](std::int64_t e, std::int64_t block, std::int64_t, std::int64_t pixel) { o[pixel] = in[e * m + block]; });
    return out;
}

tensor block_average_measurement::do_v_transpose(const tensor& x) const {
    const std::int64_t n = x.size(0), m = measured_size(), d = example_size(), kk = opts_.factor * opts_.factor;
    const float* in = x.data<float>();
    tensor out = tensor::empty({n, d});
    float* o = out.data<float>();
    std::vector<double> block(static_cast<std::size_t>(kk));
    each_pixel(n, [&](std::int64_t e, std::int64_t b, std::int64_t p, std::int64_t pixel) {
        block[static_cast<std::size_t>(p)] = in[pixel];
        if (p + 1 < kk) return;
        reflect(block, opts_.factor);
        o[e * d + b] = static_cast<float>(block[0]);
        for (std::int64_t t = 1; t < kk; ++t)
            o[e * d + m + b * (kk - 1) + t - 1] = static_cast<float>(block[static_cast<std::size_t>(t)]);
    });
    return out;
}

tensor block_average_measurement::do_v(const tensor& coefficients) const {
    const std::int64_t n = coefficients.size(0), m = measured_size(), d = example_size(),
                       kk = opts_.factor * opts_.factor;
    const float* in = coefficients.data<float>();
    tensor out = tensor::empty({n, d});
    float* o = out.data<float>();
    std::vector<double> block(static_cast<std::size_t>(kk));
    std::vector<std::int64_t> pixels(static_cast<std::size_t>(kk));
    each_pixel(n, [&](std::int64_t e, std::int64_t b, std::int64_t p, std::int64_t pixel) {
        pixels[static_cast<std::size_t>(p)] = pixel;
        if (p + 1 < kk) return;
        block[0] = in[e * d + b];
        for (std::int64_t t = 1; t < kk; ++t) block[static_cast<std::size_t>(t)] = in[e * d + m + b * (kk - 1) + t - 1];
        reflect(block, opts_.factor);
        for (std::int64_t t = 0; t < kk; ++t)
            o[pixels[static_cast<std::size_t>(t)]] = static_cast<float>(block[static_cast<std::size_t>(t)]);
    });
    return out;
}

}  // namespace difflab::plugins
