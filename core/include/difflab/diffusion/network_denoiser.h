// SPDX-License-Identifier: Apache-2.0
// A network under a parametrization: the denoiser samplers use, and the loss that trains it.
#pragma once

#include <difflab/diffusion/condition.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/parametrization.h>

#include <vector>

namespace difflab {

/// x0 = c_skip x_t + c_out F(c_in x_t, c_noise, cond) for a network F, a process and a
/// parametrization (Karras et al. 2022, eq. 7 and Table 1): what every sampler drives. The
/// condition (class labels or the null class, extra channels, ...; one row per sample of the
/// batches it will see) applies to every call until changed.
class network_denoiser final : public denoiser {
public:
    network_denoiser(network& net, const process& p, prediction kind, double sigma_data = 0.5);

    void set_condition(condition cond) { cond_ = std::move(cond); }
    /// Clamps every denoised estimate to [-1, 1], the range of image data (Ho et al. 2020 and
    /// guided-diffusion's clip_denoised): a half-trained network's wild estimates at high noise
    /// then cannot throw samples off the data range.
    void set_clip_denoised(bool on) { clip_ = on; }
    prediction kind() const { return parametrization_.kind(); }

protected:
    tensor denoise(const tensor& x, double t) const override;

private:
    network& net_;
    parametrization parametrization_;
    condition cond_;
    bool clip_ = false;
};

/// The denoising loss of a batch (Karras et al. 2022, eq. 8, which covers them all):
///     mean over examples of  lambda(t) c_out^2 * mean (F(c_in x_t, c_noise, cond) - F_target)^2,
///     F_target = (x0 - c_skip x_t) / c_out,   x_t = alpha x0 + sigma noise,
/// with lambda the process's loss_weight. With the default weight (the SNR) it is exactly
/// DDPM's simple loss for eps prediction (Ho et al. 2020), the x0 and v MSEs, and denoising score
/// matching weighted by sigma^2 for score prediction (Song & Ermon 2019); with EDM's
/// preconditioning and weight it is EDM's loss. `times` holds one t per example.
///
/// With cond.loss_mask m (shaped like x0 or broadcastable to it), the inner mean becomes the
/// m-weighted mean over the elements of each example, sum(m e^2) / sum(m): divided by the
/// mask's sum, not by the element count, so that the loss keeps the scale of an unmasked
/// squared error whatever share of the example the mask covers (a small inpainting hole, one
/// generated frame of a video), and the learning rate and loss weight tuned for unmasked
/// training still hold. An all-ones mask gives exactly the unmasked loss; an example whose
/// mask is all zero adds nothing (but still counts in the mean over examples).
///
/// With cond.clean_mask c, x_t is x0 where c is 1 (RaMViD's given frames, Höppe et al. 2022)
/// and the target there is the output whose estimate is x0; pair it with a loss mask 1 - c to
/// score only the frames generated.
tensor denoising_loss(network& net, const process& p, prediction kind, double sigma_data, const tensor& x0,
                      const std::vector<double>& times, const tensor& noise, const condition& cond = {});

}  // namespace difflab
