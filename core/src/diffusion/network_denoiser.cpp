// SPDX-License-Identifier: Apache-2.0
// A network under a parametrization, and its training loss.
#include <difflab/base/error.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

namespace difflab {

namespace {

/// [N, 1, ..., 1] holding one value per example, to broadcast over x's shape.
tensor per_example(const tensor& like, const std::vector<float>& values) {
    shape_t shape(static_cast<std::size_t>(like.dim()), 1);
    shape[0] = like.size(0);
    return tensor::from_vector(shape, values);
}

}  // namespace

network_denoiser::network_denoiser(network& net, const process& p, prediction kind, double sigma_data)
    : denoiser(p), net_(net), kind_(kind), sigma_data_(sigma_data) {}

tensor network_denoiser::denoise(const tensor& x, double t) const {
    const preconditioning c = precondition(kind_, diffusion_process(), t, sigma_data_);
    const tensor noise = tensor::full({x.size(0)}, static_cast<float>(c.c_noise));
    const tensor out = net_.forward(x * static_cast<float>(c.c_in), noise, labels_);
    const tensor x0 = x * static_cast<float>(c.c_skip) + out * static_cast<float>(c.c_out);
    return clip_ ? clamp(x0, -1.0f, 1.0f) : x0;
}

tensor denoising_loss(network& net, const process& p, prediction kind, double sigma_data, const tensor& x0,
                      const std::vector<double>& times, const tensor& noise, const tensor& labels) {
    const auto n = static_cast<std::size_t>(x0.size(0));
    if (times.size() != n || noise.shape() != x0.shape())
        throw error(fmt::format("denoising loss: {} times and noise {} for data {}", times.size(),
                                shape_text(noise.shape()), shape_text(x0.shape())));
    std::vector<float> alpha(n), sigma(n), c_in(n), c_noise(n), target_x0(n), target_noise(n), weight(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = times[i], a = p.alpha(t), s = p.sigma(t);
        const preconditioning c = precondition(kind, p, t, sigma_data);
        alpha[i] = static_cast<float>(a);
        sigma[i] = static_cast<float>(s);
        c_in[i] = static_cast<float>(c.c_in);
        c_noise[i] = static_cast<float>(c.c_noise);
        // F_target = (x0 - c_skip (a x0 + s noise)) / c_out, expanded so that no large terms
        // cancel (eps prediction at alpha ~ 0 has c_skip = 1 / alpha).
        target_x0[i] = static_cast<float>((1 - c.c_skip * a) / c.c_out);
        target_noise[i] = static_cast<float>(-c.c_skip * s / c.c_out);
        weight[i] = static_cast<float>(p.loss_weight(t) * c.c_out * c.c_out);
    }
    const tensor x_t = x0 * per_example(x0, alpha) + noise * per_example(x0, sigma);
    const tensor out = net.forward(x_t * per_example(x0, c_in), tensor::from_vector({x0.size(0)}, c_noise), labels);
    const tensor target = x0 * per_example(x0, target_x0) + noise * per_example(x0, target_noise);
    const tensor error = out - target;
    std::vector<std::int64_t> dims;
    for (std::int64_t d = 1; d < x0.dim(); ++d) dims.push_back(d);
    const tensor per_example_mse = mean(error * error, dims, true);
    return mean(per_example_mse * per_example(x0, weight));
}

}  // namespace difflab
