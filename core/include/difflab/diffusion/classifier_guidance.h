// SPDX-License-Identifier: Apache-2.0
// Classifier guidance in the score form, valid for every sampler.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/guidance_schedule.h>
#include <difflab/diffusion/network.h>
#include <difflab/tensor/tensor.h>

namespace difflab {

/// grad_x log p(y | x_t = x) for a batch x at time t and one label per sample: a noisy
/// classifier's gradient (Dhariwal & Nichol 2021), or an exact class posterior's.
class class_log_likelihood {
public:
    virtual ~class_log_likelihood() = default;
    virtual tensor gradient(const tensor& x, double t, const tensor& labels) const = 0;
};

/// A noise-aware classifier network (Dhariwal & Nichol 2021, trained on x_t at random t):
/// grad_x log softmax(F(x_t, t))_y by reverse-mode differentiation, recorded in its own graph
/// (enable_grad_guard) inside the sampler's no_grad_guard. The network sees x_t as it is and
/// the continuous time t as its noise input, as it was trained. One network evaluation per call.
class network_class_log_likelihood final : public class_log_likelihood {
public:
    explicit network_class_log_likelihood(network& classifier) : classifier_(classifier) {}
    tensor gradient(const tensor& x, double t, const tensor& labels) const override;

private:
    network& classifier_;
};

/// Classifier guidance (Dhariwal & Nichol 2021) in the score form of their Algorithm 2,
///     eps' = eps - sigma s grad log p(y | x_t),   i.e.   x0' = x0 + s (sigma^2 / alpha) grad log p(y | x_t),
/// so that score' = score + s grad log p(y | x_t): the score of p(x_t) p(y | x_t)^s, which at
/// s = 1 is the exact conditional p(x_t | y). Written on the denoised estimate, it holds for
/// every sampler and process; guided-diffusion's Algorithm 1 (a mean shift by
/// s Sigma grad) is the same rule for ancestral sampling only. The gradient is taken inside the
/// sampler's no_grad_guard: class_log_likelihood records its own graph.
class classifier_guidance final : public denoiser {
public:
    /// `labels`: one class per sample of the batches this denoiser will see.
    classifier_guidance(const denoiser& inner, const class_log_likelihood& classifier, tensor labels,
                        guidance_schedule schedule);

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    const denoiser& inner_;
    const class_log_likelihood& classifier_;
    tensor labels_;
    guidance_schedule schedule_;
};

}  // namespace difflab
