// SPDX-License-Identifier: Apache-2.0
// Classifier-free guidance: a conditional model steered away from its unconditional counterpart.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/guidance_schedule.h>
#include <difflab/diffusion/network_denoiser.h>

#include <cstdint>

namespace difflab {

/// Classifier-free guidance (Ho & Salimans 2022) over two denoisers of the same process, in x0
/// space (affine-equivalent to guiding eps):
///     x0 = x0_uncond + w(t) (x0_cond - x0_uncond),
/// w from the schedule (1 outside its window, where guidance is off; Kynkäänniemi et al. 2024
/// guide only in an interval): w = 1 is the conditional model, 0 the unconditional one, w > 1 guides
/// (latent-diffusion's convention s = w; Ho & Salimans write w' = w - 1). At w(t) = 1 only the
/// conditional denoiser runs. For exact denoisers (the oracles) and any pair of models; a
/// network trained with label dropout batches both passes into one call instead
/// (guided_denoiser, below).
class classifier_free_guidance final : public denoiser {
public:
    classifier_free_guidance(const denoiser& conditional, const denoiser& unconditional, guidance_schedule schedule);

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    const denoiser& conditional_;
    const denoiser& unconditional_;
    guidance_schedule schedule_;
};

/// Classifier-free guidance of a network trained with label dropout: the rule above, with the
/// conditional and the unconditional pass run as one network call on a batch of 2n (x with the
/// conditional condition, then x with the unconditional one), two network evaluations per
/// sample; at w(t) = 1 one pass.
class guided_denoiser final : public denoiser {
public:
    /// `conditional` and `unconditional`: one row per sample of the batches it will see, with
    /// the same fields defined (e.g. the labels, and the null class of the network, num_classes;
    /// both with the same channels when the network also takes an image).
    guided_denoiser(network& net, const process& p, prediction kind, double sigma_data, const condition& conditional,
                    const condition& unconditional, guidance_schedule schedule);

    /// Clamps the guided estimate to [-1, 1], the range of image data.
    void set_clip_denoised(bool on) { clip_ = on; }
    /// Network evaluations per sample per denoiser evaluation: 2 when guiding, 1 at a constant w = 1.
    std::int64_t passes() const;

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    network_denoiser conditional_, both_;
    guidance_schedule schedule_;
    bool clip_ = false;
};

/// Label dropout, the training half of classifier-free guidance: each label of a batch whose
/// first example is at `first_position` of the data stream becomes `null_class` with
/// probability `probability`, keyed by (seed, "train/label_dropout", position).
tensor drop_labels(const tensor& labels, double probability, std::int64_t null_class, std::uint64_t seed,
                   std::int64_t first_position);

}  // namespace difflab
