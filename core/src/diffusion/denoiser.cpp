// SPDX-License-Identifier: Apache-2.0
// Parametrization coefficients and the denoiser's conversions.
#include <difflab/base/error.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>

#include <cmath>

namespace difflab {

prediction parse_prediction(const std::string& name) {
    if (name == "eps") return prediction::eps;
    if (name == "x0") return prediction::x0;
    if (name == "v") return prediction::v;
    if (name == "score") return prediction::score;
    if (name == "edm") return prediction::edm;
    throw config_error("unknown prediction type '" + name + "'; valid: eps, x0, v, score, edm");
}

const char* prediction_name(prediction kind) {
    switch (kind) {
        case prediction::eps:
            return "eps";
        case prediction::x0:
            return "x0";
        case prediction::v:
            return "v";
        case prediction::score:
            return "score";
        case prediction::edm:
            return "edm";
    }
    return "?";
}

preconditioning precondition(prediction kind, const process& p, double t, double sigma_data) {
    const double a = p.alpha(t), s = p.sigma(t);
    preconditioning c;
    c.c_noise = t;
    switch (kind) {
        case prediction::eps:  // x = a x0 + s eps
            c.c_skip = 1 / a;
            c.c_out = -s / a;
            break;
        case prediction::x0:
            c.c_skip = 0;
            c.c_out = 1;
            break;
        case prediction::v: {  // v = a eps - s x0  =>  x0 = (a x - s v) / (a^2 + s^2)
            const double norm = a * a + s * s;
            c.c_skip = a / norm;
            c.c_out = -s / norm;
            break;
        }
        case prediction::score:  // score = -(x - a x0) / s^2
            c.c_skip = 1 / a;
            c.c_out = s * s / a;
            break;
        case prediction::edm: {  // Karras et al. Table 1 on x / a with noise level s / a
            const double level = s / a, d2 = sigma_data * sigma_data, total = level * level + d2;
            c.c_in = 1 / (a * std::sqrt(total));
            c.c_skip = d2 / total / a;
            c.c_out = level * sigma_data / std::sqrt(total);
            c.c_noise = 0.25 * std::log(level);
            break;
        }
    }
    return c;
}

tensor denoiser::x0(const tensor& x, double t) const {
    ++evaluations_;
    return denoise(x, t);
}

tensor denoiser::x0_vjp(const tensor& x, double t, const tensor& cotangent) const {
    ++evaluations_;
    return denoise_vjp(x, t, cotangent);
}

tensor denoiser::denoise_vjp(const tensor& x, double t, const tensor& cotangent) const {
    enable_grad_guard recording;
    tensor input = x.detach();
    input.set_requires_grad();
    const tensor out = denoise(input, t);
    if (!out.requires_grad())
        throw error(
            "this denoiser is not differentiable in x (no gradient reaches its input); guidance through the denoised "
            "estimate needs a network denoiser or one that overrides denoise_vjp with its closed form");
    return gradients(out, {input}, cotangent).front();
}

tensor denoiser::eps(const tensor& x, double t) const {
    return eps_from_x0(process_, x, x0(x, t), t);
}

tensor denoiser::score(const tensor& x, double t) const {
    return score_from_x0(process_, x, x0(x, t), t);
}

tensor eps_from_x0(const process& p, const tensor& x, const tensor& x0, double t) {
    const double a = p.alpha(t), s = p.sigma(t);
    return (x - x0 * static_cast<float>(a)) * static_cast<float>(1 / s);
}

tensor score_from_x0(const process& p, const tensor& x, const tensor& x0, double t) {
    const double a = p.alpha(t), s = p.sigma(t);
    return (x0 * static_cast<float>(a) - x) * static_cast<float>(1 / (s * s));
}

double noise_level(const process& p, double t) {
    return p.sigma(t) / p.alpha(t);
}

tensor denoise_at_level(const denoiser& d, const tensor& x_hat, double level) {
    const process& p = d.diffusion_process();
    const double t = p.t_of_log_snr(-2.0 * std::log(level));
    return d.x0(x_hat * p.alpha(t), t);
}

}  // namespace difflab
