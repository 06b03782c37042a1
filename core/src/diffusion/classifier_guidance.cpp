// SPDX-License-Identifier: Apache-2.0
// Classifier guidance in the score form.
#include <difflab/diffusion/classifier_guidance.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>

namespace difflab {

tensor network_class_log_likelihood::gradient(const tensor& x, double t, const tensor& labels) const {
    enable_grad_guard recording;
    tensor input = x.detach();
    input.set_requires_grad();
    const tensor logits = classifier_.forward(input, tensor::full({x.size(0)}, static_cast<float>(t)), condition{});
    // cross_entropy is the batch mean of -log p(y_i | x_i); samples do not interact, so the
    // gradient of -N times it is each sample's own grad log p(y_i | x_i).
    const tensor total = cross_entropy(logits, labels) * static_cast<float>(-x.size(0));
    return gradients(total, {input}).front();
}

classifier_guidance::classifier_guidance(const denoiser& inner, const class_log_likelihood& classifier, tensor labels,
                                         guidance_schedule schedule)
    : denoiser(inner.diffusion_process()),
      inner_(inner),
      classifier_(classifier),
      labels_(std::move(labels)),
      schedule_(std::move(schedule)) {}

tensor classifier_guidance::denoise(const tensor& x, double t) const {
    const tensor x0 = inner_.x0(x, t);
    const double s = schedule_.at(t);
    if (s == 0) return x0;
    const process& p = diffusion_process();
    const double sigma = p.sigma(t);
    return x0 + classifier_.gradient(x, t, labels_) * (s * sigma * sigma / p.alpha(t));
}

}  // namespace difflab
