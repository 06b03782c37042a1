// SPDX-License-Identifier: Apache-2.0
// Baranchuk et al.'s ensemble of per-pixel MLP classifiers over diffusion features.
#pragma once

#include <difflab/tensor/module.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace difflab::plugins {

/// The pixel classifier of Baranchuk et al. 2022 ("Label-efficient semantic segmentation with
/// diffusion models", taken from datasetGAN): Linear(F, 128) - ReLU - BatchNorm - Linear(128, 32) -
/// ReLU - BatchNorm - Linear(32, K), widths 256 and 128 from K = 30 classes on; linear weights
/// N(0, 0.02^2), biases 0 (their init_weights). Maps features [P, F] to class logits [P, K].
class pixel_mlp final : public module {
public:
    pixel_mlp(std::int64_t features, std::int64_t classes, std::uint64_t seed);
    tensor forward(const tensor& features);

private:
    std::shared_ptr<nn::linear> first_, second_, out_;
    std::shared_ptr<nn::batch_norm> first_norm_, second_norm_;
};

/// How each member of the ensemble trains (Baranchuk et al.'s train_interpreter): Adam at `lr`
/// on the cross-entropy of mini-batches of `batch_size` pixels, shuffled each epoch, for at most
/// `max_epochs` epochs; from the fifth epoch on, training stops once `patience` successive
/// mini-batches have not lowered the lowest batch loss seen since then.
struct pixel_training {
    std::int64_t members = 10;
    std::int64_t batch_size = 64;
    double lr = 1e-3;
    std::int64_t max_epochs = 100;
    std::int64_t patience = 50;
};

/// The ensemble's answer per pixel.
struct pixel_prediction {
    tensor labels;       ///< [P] the class most members chose (the smallest on a tie), as floats
    tensor uncertainty;  ///< [P] Baranchuk et al.'s Jensen-Shannon score: H(mean p) - mean H(p_m)
};

/// An ensemble of pixel_mlp members (Baranchuk et al. 2022): each trained alone from its own seed
/// and data order, predicting by majority vote of the members' most likely classes.
class pixel_ensemble {
public:
    pixel_ensemble(std::int64_t features, std::int64_t classes, pixel_training training, std::uint64_t seed);

    /// Trains every member on `features` [P, F] and `labels` [P] (class ids); returns the
    /// mini-batches each member took.
    std::vector<std::int64_t> fit(const tensor& features, const tensor& labels);
    /// The vote and its uncertainty for `features` [P, F], in eval mode.
    pixel_prediction predict(const tensor& features) const;

    std::int64_t classes() const { return classes_; }

private:
    std::int64_t classes_;
    pixel_training training_;
    std::uint64_t seed_;
    std::vector<std::unique_ptr<pixel_mlp>> members_;
};

/// The ensemble's answer from each member's class probabilities [P, K]: the majority vote of the
/// members' most likely classes (the smallest class on a tie, and a member's first most likely
/// class on its own tie) and the Jensen-Shannon score H(mean p) - mean H(p) in nats.
pixel_prediction ensemble_vote(const std::vector<tensor>& member_probabilities);

/// The entropy -sum p log p in nats of each row of probabilities [P, K], as [P] (the uncertainty
/// of a single classifier).
tensor softmax_entropy(const tensor& probabilities);

/// The image score of Baranchuk et al.'s predict_labels: the mean of the highest tenth of an
/// image's pixel uncertainties (at least one pixel).
double image_uncertainty(const std::vector<float>& pixel_uncertainty);

}  // namespace difflab::plugins
