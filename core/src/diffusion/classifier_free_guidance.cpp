// SPDX-License-Identifier: Apache-2.0
// Classifier-free guidance: over two denoisers, of a network in one batched call, and label dropout.
#include <difflab/base/error.h>
#include <difflab/diffusion/classifier_free_guidance.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>

namespace difflab {

classifier_free_guidance::classifier_free_guidance(const denoiser& conditional, const denoiser& unconditional,
                                                   guidance_schedule schedule)
    : denoiser(conditional.diffusion_process()),
      conditional_(conditional),
      unconditional_(unconditional),
      schedule_(std::move(schedule)) {
    if (&conditional.diffusion_process() != &unconditional.diffusion_process())
        throw error("classifier-free guidance needs its two denoisers on the same process");
}

tensor classifier_free_guidance::denoise(const tensor& x, double t) const {
    const double w = schedule_.active(t) ? schedule_.at(t) : 1.0;  // outside the window: the conditional model
    const tensor conditional = conditional_.x0(x, t);
    if (w == 1.0) return conditional;
    const tensor unconditional = unconditional_.x0(x, t);
    return unconditional + (conditional - unconditional) * w;
}

guided_denoiser::guided_denoiser(network& net, const process& p, prediction kind, double sigma_data,
                                 const condition& conditional, const condition& unconditional,
                                 guidance_schedule schedule)
    : denoiser(p),
      conditional_(net, p, kind, sigma_data),
      both_(net, p, kind, sigma_data),
      schedule_(std::move(schedule)) {
    conditional_.set_condition(conditional);
    both_.set_condition(concat_rows(conditional, unconditional));
}

std::int64_t guided_denoiser::passes() const {
    const bool conditional_only =
        schedule_.scale == 1.0 && schedule_.shape == "constant" && schedule_.t_low <= 0 && schedule_.t_high >= 1;
    return conditional_only ? 1 : 2;
}

tensor guided_denoiser::denoise(const tensor& x, double t) const {
    // Outside the schedule's window guidance is off: the conditional model.
    const auto scale = static_cast<float>(schedule_.active(t) ? schedule_.at(t) : 1.0);
    if (scale == 1.0f) {
        const tensor conditional = conditional_.x0(x, t);
        return clip_ ? clamp(conditional, -1.0f, 1.0f) : conditional;
    }
    const std::int64_t n = x.size(0);
    const tensor both = both_.x0(concat({x, x}, 0), t);
    const tensor conditional = both.slice(0, 0, n), unconditional = both.slice(0, n, 2 * n);
    const tensor guided = unconditional + (conditional - unconditional) * scale;
    return clip_ ? clamp(guided, -1.0f, 1.0f) : guided;
}

tensor drop_labels(const tensor& labels, double probability, std::int64_t null_class, std::uint64_t seed,
                   std::int64_t first_position) {
    std::vector<float> values = labels.contiguous().to_vector();
    for (std::size_t i = 0; i < values.size(); ++i) {
        philox_stream stream(seed, random_purpose("train/label_dropout"),
                             static_cast<std::uint64_t>(first_position) + i);
        float u = 0;
        stream.uniform(&u, 1);
        if (u < probability) values[i] = static_cast<float>(null_class);
    }
    return tensor::from_vector({static_cast<std::int64_t>(values.size())}, values);
}

}  // namespace difflab
