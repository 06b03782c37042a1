// SPDX-License-Identifier: Apache-2.0
// Classifier-free guidance.
#include <difflab/diffusion/guidance.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>

namespace difflab {

guided_denoiser::guided_denoiser(network& net, const process& p, prediction kind, double sigma_data,
                                 const condition& conditional, const condition& unconditional, double scale)
    : denoiser(p),
      conditional_(net, p, kind, sigma_data),
      both_(net, p, kind, sigma_data),
      scale_(static_cast<float>(scale)) {
    conditional_.set_condition(conditional);
    both_.set_condition(concat_rows(conditional, unconditional));
}

tensor guided_denoiser::denoise(const tensor& x, double t) const {
    if (scale_ == 1.0f) {
        const tensor conditional = conditional_.x0(x, t);
        return clip_ ? clamp(conditional, -1.0f, 1.0f) : conditional;
    }
    const std::int64_t n = x.size(0);
    const tensor both = both_.x0(concat({x, x}, 0), t);
    const tensor conditional = both.slice(0, 0, n), unconditional = both.slice(0, n, 2 * n);
    const tensor guided = unconditional + (conditional - unconditional) * scale_;
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
