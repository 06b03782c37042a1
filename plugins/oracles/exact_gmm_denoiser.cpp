// SPDX-License-Identifier: Apache-2.0
// The exact denoiser of Gaussian-mixture data.
#include "exact_gmm_denoiser.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

namespace difflab::plugins {

namespace {

/// The examples of x as the columns of a D x N matrix (double).
Eigen::MatrixXd columns_of(const tensor& x, std::int64_t d) {
    if (x.dim() < 1 || x.numel() != x.size(0) * d)
        throw error(fmt::format("exact_gmm: input {} does not hold examples of {} values", shape_text(x.shape()), d));
    const std::vector<float> values = x.contiguous().to_vector();
    return Eigen::Map<const Eigen::MatrixXf>(values.data(), d, x.size(0)).cast<double>();
}

tensor tensor_of(const Eigen::MatrixXd& columns, const shape_t& shape) {
    const Eigen::MatrixXf values = columns.cast<float>();
    return tensor::from_vector(shape, std::vector<float>(values.data(), values.data() + values.size()));
}

}  // namespace

tensor exact_gmm_denoiser::denoise(const tensor& x, double t) const {
    const process& p = diffusion_process();
    return tensor_of(mixture_.posterior_mean(columns_of(x, mixture_.dimension()), p.alpha(t), p.sigma(t)), x.shape());
}

tensor exact_gmm_denoiser::denoise_vjp(const tensor& x, double t, const tensor& cotangent) const {
    const process& p = diffusion_process();
    const double a = p.alpha(t), s = p.sigma(t);
    const std::int64_t d = mixture_.dimension();
    const Eigen::MatrixXd product =
        mixture_.posterior_covariance_times(columns_of(x, d), columns_of(cotangent, d), a, s);
    return tensor_of(product * (a / (s * s)), x.shape());
}

tensor gmm_class_posterior::gradient(const tensor& x, double t, const tensor& labels) const {
    std::vector<std::int64_t> classes;
    for (float label : labels.contiguous().to_vector()) classes.push_back(static_cast<std::int64_t>(label));
    if (classes.size() == 1) classes.assign(static_cast<std::size_t>(x.size(0)), classes.front());
    const Eigen::MatrixXd g = mixture_.class_log_likelihood_gradient(columns_of(x, mixture_.dimension()), classes,
                                                                     process_.alpha(t), process_.sigma(t));
    return tensor_of(g, x.shape());
}

}  // namespace difflab::plugins
