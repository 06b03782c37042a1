// SPDX-License-Identifier: Apache-2.0
// The 'network' component kind: a trainable module F(x, noise input, condition).
#pragma once

#include <difflab/base/error.h>
#include <difflab/diffusion/activation_taps.h>
#include <difflab/diffusion/condition.h>
#include <difflab/plugin/component.h>
#include <difflab/tensor/module.h>
#include <difflab/tensor/tensor.h>

#include <string>
#include <vector>

namespace difflab {

/// A trainable denoising network, a module with named parameters (checkpoints, optimizers),
/// wrapped into a denoiser by a parametrization (parametrization.h: eps, x0, v, score or EDM
/// preconditioning, Karras et al. 2022 Table 1):
///   x       c_in x_t, a batch [N, C, H, W] (images) or [N, D] (points);
///   noise   [N], the noise input c_noise per example: continuous t in [0, 1] for every
///           parametrization but EDM's ln(sigma) / 4 (a network scales it as its embedding
///           wants, e.g. t * 1000 for DDPM's sinusoidal timesteps);
///   cond    what else it is conditioned on (condition.h): class labels (the null class
///           num_classes means "no label", for classifier-free guidance), extra input channels
///           concatenated to x unscaled by c_in (unet's extra_in_channels), a cross-attention
///           context; an empty condition for unconditional networks. A network refuses, with
///           the option that would fit, a field it cannot take, and ignores the loss mask
///           (a training weight, not an input).
/// The output is the parametrized quantity, shaped like x except for channels: a network that
/// also predicts a variance says so in its options (unet's learned_variance).
class network : public component, public module {
public:
    static constexpr const char* kind_name = "network";
    using kind_type = network;

    virtual tensor forward(const tensor& x, const tensor& noise, const condition& cond) = 0;

    /// An embedding [N, F] of x for feature-space metrics (FID, precision/recall): a
    /// classifier's pooled penultimate activations. Networks without one throw.
    virtual tensor features(const tensor& /*x*/, const tensor& /*noise*/) {
        throw error("this network has no feature embedding; name a classifier network as the feature network");
    }

    /// The intermediate activations forward can keep (activation_taps.h), in the order forward
    /// computes them; empty when the network exposes none.
    virtual std::vector<std::string> tap_names() const { return {}; }
    /// Where forward keeps the activations `taps` names from now on (nullptr: nowhere); the
    /// caller owns `taps`. Throws, listing tap_names(), when it names one this network lacks.
    void set_taps(activation_taps* taps);

protected:
    /// For implementations of forward: keeps `activation` when the taps ask for `name`.
    void tap(const std::string& name, const tensor& activation) const {
        if (taps_ && taps_->wants(name)) taps_->keep(name, activation);
    }

private:
    activation_taps* taps_ = nullptr;
};

}  // namespace difflab
