// SPDX-License-Identifier: Apache-2.0
// Classifier-free guidance: a conditional network steered away from its unconditional self.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/network_denoiser.h>

#include <cstdint>

namespace difflab {

/// Classifier-free guidance (Ho & Salimans 2022) of a network trained with label dropout, in
/// x0 space, which is affine-equivalent to guiding eps: with guidance scale w,
///     x0 = x0_uncond + w (x0_cond - x0_uncond),
/// so w = 1 is the conditional model alone (one pass), w = 0 the unconditional one, w > 1
/// guides (Ho & Salimans write w' = w - 1 for the same rule). When guiding, the conditional
/// and the unconditional pass run as one network call on a batch of 2n (x with the
/// conditional condition, then x with the unconditional one), two network evaluations per
/// sample.
class guided_denoiser final : public denoiser {
public:
    /// `conditional` and `unconditional`: one row per sample of the batches it will see, with
    /// the same fields defined (e.g. the labels, and the null class of the network, num_classes;
    /// both with the same channels when the network also takes an image).
    guided_denoiser(network& net, const process& p, prediction kind, double sigma_data, const condition& conditional,
                    const condition& unconditional, double scale);

    /// Clamps the guided estimate to [-1, 1], the range of image data.
    void set_clip_denoised(bool on) { clip_ = on; }
    /// Network evaluations per sample per denoiser evaluation: 2 when guiding, 1 at w = 1.
    std::int64_t passes() const { return scale_ == 1.0f ? 1 : 2; }

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    network_denoiser conditional_, both_;
    float scale_;
    bool clip_ = false;
};

/// Label dropout, the training half of classifier-free guidance: each label of a batch whose
/// first example is at `first_position` of the data stream becomes `null_class` with
/// probability `probability`, keyed by (seed, "train/label_dropout", position).
tensor drop_labels(const tensor& labels, double probability, std::int64_t null_class, std::uint64_t seed,
                   std::int64_t first_position);

}  // namespace difflab
