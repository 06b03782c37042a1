// SPDX-License-Identifier: Apache-2.0
// What a denoising network sees besides x_t and its noise input: labels, channels, a loss mask, a context.
#pragma once

#include <difflab/tensor/tensor.h>

#include <cstdint>

namespace difflab {

/// The conditioning of a batch, one row per example along dimension 0. Every field may be an
/// undefined tensor (absent); a condition with none is an unconditional network's. A task
/// builds it (from the dataset's labels and paired inputs, with its training-time corruption:
/// label dropout, SR3's noised low-resolution image, ...); networks read the fields they can
/// take and refuse the others with the option that would make them fit.
struct condition {
    /// [N] class ids held as floats (Ho et al. 2020's class-conditional CIFAR-10 in their
    /// appendix; Dhariwal & Nichol 2021; Ho & Salimans 2022, "Classifier-free diffusion
    /// guidance"). The network's null class, num_classes, means "no label": the unconditional
    /// pass of classifier-free guidance and the dropped labels of its training. Undefined: the
    /// null class for a class-conditional network.
    tensor labels{};
    /// [N, C', H, W] extra input channels, concatenated to the network's input c_in x_t:
    /// SR3's upsampled low-resolution image (Saharia et al. 2021, "Image super-resolution via
    /// iterative refinement"), Palette's source image (Saharia et al. 2022, "Palette:
    /// image-to-image diffusion models"), the MR image whose segmentation is denoised (Wolleb et
    /// al. 2022, "Diffusion models for implicit image segmentation ensembles"), the clean past
    /// and future frames of a video model (Voleti et al. 2022, MCVD). They are not scaled by
    /// c_in: SR3 and Palette concatenate the conditioning image at the data's scale whatever the
    /// noise level, and c_in exists to give the noisy x_t unit variance, which the clean
    /// conditioning image already has. The network's extra_in_channels must equal C'.
    tensor channels{};
    /// Weights of each element in the denoising loss, shaped like x or broadcastable to it (e.g.
    /// [N, 1, H, W] for every channel of a pixel); undefined means all ones. RaMViD (Höppe et al.
    /// 2022, "Diffusion models for video prediction and infilling") keeps the frames it
    /// conditions on clean inside x_t and scores only the frames it generates; inpainting
    /// models may score only the hole. Training only: networks ignore it, and denoising_loss
    /// normalizes by its sum per example (network_denoiser.h says why).
    tensor loss_mask{};
    /// Elements of x_t held at the clean data, shaped like x or broadcastable to it (e.g.
    /// [N, 1, F, 1, 1] for whole frames of a video [N, C, F, H, W]); undefined means none.
    /// RaMViD (Höppe et al. 2022) trains a video model with a random set of frames kept clean
    /// inside x_t at the same noise input, and samples it with those frames replaced by the
    /// given ones: denoising_loss puts x0 there instead of alpha x0 + sigma noise, and a video
    /// network (unet3d) reads from it which frames are given. Unlike loss_mask it is an input:
    /// sampling passes it too, with the state's given frames kept clean by a constraint.
    tensor clean_mask{};
    /// [N, L, F] token embeddings for cross-attention (Rombach et al. 2022, "High-resolution
    /// image synthesis with latent diffusion models": text through a transformer encoder).
    /// Reserved: no network in difflab attends to it yet, and each refuses it.
    tensor context{};

    /// A condition holding class labels alone.
    static condition from_labels(tensor labels);

    /// Whether no field is defined.
    bool empty() const;
    /// The examples [first, first + n) of every defined field.
    condition rows(std::int64_t first, std::int64_t n) const;
};

/// Throws when `cond` holds a cross-attention context: for networks without cross-attention,
/// named `network` in the message.
void refuse_context(const char* network, const condition& cond);
/// Throws when `cond` holds a clean mask: for networks that cannot tell given elements from
/// noisy ones, named `network` in the message.
void refuse_clean_mask(const char* network, const condition& cond);

/// `a`'s examples followed by `b`'s, field by field: the conditional and the unconditional pass
/// of classifier-free guidance as one batch. A field defined in one but not the other throws.
condition concat_rows(const condition& a, const condition& b);

}  // namespace difflab
