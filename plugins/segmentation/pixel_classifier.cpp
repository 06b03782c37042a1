// SPDX-License-Identifier: Apache-2.0
// Baranchuk et al.'s pixel classifier ensemble.
#include "pixel_classifier.h"

#include <difflab/base/error.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace difflab::plugins {

namespace {

/// A linear layer initialized as Baranchuk et al.'s init_weights: weight N(0, 0.02^2), bias 0.
std::shared_ptr<nn::linear> small_linear(std::int64_t in, std::int64_t out, std::uint64_t seed, std::uint64_t layer) {
    auto l = std::make_shared<nn::linear>(in, out, true, seed);
    l->weight.copy_(randn({out, in}, seed, random_purpose("segmentation/pixel_mlp"), layer) * 0.02f);
    l->bias.copy_(tensor::zeros({out}));
    return l;
}

}  // namespace

pixel_mlp::pixel_mlp(std::int64_t features, std::int64_t classes, std::uint64_t seed) {
    const std::int64_t wide = classes < 30 ? 128 : 256, narrow = classes < 30 ? 32 : 128;
    first_ = register_module("first", small_linear(features, wide, seed, 0));
    first_norm_ = register_module("first_norm", std::make_shared<nn::batch_norm>(wide));
    second_ = register_module("second", small_linear(wide, narrow, seed, 1));
    second_norm_ = register_module("second_norm", std::make_shared<nn::batch_norm>(narrow));
    out_ = register_module("out", small_linear(narrow, classes, seed, 2));
}

tensor pixel_mlp::forward(const tensor& features) {
    const tensor h = first_norm_->forward(relu(first_->forward(features)));
    return out_->forward(second_norm_->forward(relu(second_->forward(h))));
}

pixel_ensemble::pixel_ensemble(std::int64_t features, std::int64_t classes, pixel_training training, std::uint64_t seed)
    : classes_(classes), training_(training), seed_(seed) {
    if (features < 1 || classes < 2 || training.members < 1 || training.batch_size < 2)
        throw error(
            fmt::format("pixel_ensemble: needs features >= 1, classes >= 2, members >= 1 and batch_size >= 2 "
                        "(batch norm), got {}, {}, {}, {}",
                        features, classes, training.members, training.batch_size));
    for (std::int64_t m = 0; m < training.members; ++m)
        members_.push_back(std::make_unique<pixel_mlp>(features, classes, seed + static_cast<std::uint64_t>(m)));
}

std::vector<std::int64_t> pixel_ensemble::fit(const tensor& features, const tensor& labels) {
    const std::int64_t pixels = features.size(0);
    if (features.dim() != 2 || labels.dim() != 1 || labels.size(0) != pixels || pixels < 2)
        throw error(fmt::format("pixel_ensemble: fit needs features [P, F] and labels [P] with P >= 2, got {} and {}",
                                shape_text(features.shape()), shape_text(labels.shape())));
    const tensor table = features.contiguous();
    std::vector<std::int64_t> iterations;
    for (std::size_t m = 0; m < members_.size(); ++m) {
        pixel_mlp& member = *members_[m];
        member.train();
        optim::adam optimizer(member.parameters(), {static_cast<float>(training_.lr)});
        float best = std::numeric_limits<float>::infinity();
        std::int64_t iteration = 0, stale = 0;
        for (std::int64_t epoch = 0; epoch < training_.max_epochs && stale <= training_.patience; ++epoch) {
            philox_stream order(seed_, random_purpose("segmentation/pixel_order"), m,
                                static_cast<std::uint64_t>(epoch));
            const std::vector<std::int64_t> shuffled = order.permutation(pixels);
            for (std::int64_t first = 0; first < pixels && stale <= training_.patience; first += training_.batch_size) {
                // A last batch of one pixel has no variance for batch norm: it joins the next epoch.
                const std::int64_t n = std::min(training_.batch_size, pixels - first);
                if (n < 2) break;
                std::vector<float> ids(shuffled.begin() + first, shuffled.begin() + first + n);
                const tensor rows = tensor::from_vector({n}, ids);
                optimizer.zero_grad();
                const tensor loss = cross_entropy(member.forward(embedding(table, rows)),
                                                  embedding(labels.reshape({pixels, 1}), rows).reshape({n}));
                loss.backward();
                optimizer.step();
                ++iteration;
                if (epoch > 3) {
                    const float value = loss.to_vector()[0];
                    if (value < best) {
                        best = value;
                        stale = 0;
                    } else {
                        ++stale;
                    }
                }
            }
        }
        iterations.push_back(iteration);
    }
    return iterations;
}

pixel_prediction pixel_ensemble::predict(const tensor& features) const {
    const no_grad_guard no_grad;
    std::vector<tensor> probabilities;
    for (const auto& member : members_) {
        member->eval();
        probabilities.push_back(softmax(member->forward(features), 1).contiguous());
    }
    return ensemble_vote(probabilities);
}

pixel_prediction ensemble_vote(const std::vector<tensor>& member_probabilities) {
    if (member_probabilities.empty() || member_probabilities.front().dim() != 2)
        throw error("ensemble_vote: needs at least one member's probabilities [P, K]");
    const std::int64_t pixels = member_probabilities.front().size(0), classes = member_probabilities.front().size(1);
    std::vector<std::int32_t> votes(static_cast<std::size_t>(pixels * classes), 0);
    tensor mean_probability = tensor::zeros({pixels, classes}), mean_entropy = tensor::zeros({pixels});
    for (const tensor& p : member_probabilities) {
        if (p.shape() != member_probabilities.front().shape())
            throw error(fmt::format("ensemble_vote: members disagree in shape ({} and {})", shape_text(p.shape()),
                                    shape_text(member_probabilities.front().shape())));
        mean_probability = mean_probability + p;
        mean_entropy = mean_entropy + softmax_entropy(p);
        const std::vector<float> values = p.contiguous().to_vector();
        for (std::int64_t i = 0; i < pixels; ++i) {
            const float* row = values.data() + i * classes;
            votes[static_cast<std::size_t>(i * classes + (std::max_element(row, row + classes) - row))]++;
        }
    }
    std::vector<float> chosen(static_cast<std::size_t>(pixels));
    for (std::int64_t i = 0; i < pixels; ++i) {
        const auto row = votes.begin() + i * classes;
        chosen[static_cast<std::size_t>(i)] = static_cast<float>(std::max_element(row, row + classes) - row);
    }
    const float share = 1.0f / static_cast<float>(member_probabilities.size());
    return {tensor::from_vector({pixels}, chosen), softmax_entropy(mean_probability * share) - mean_entropy * share};
}

tensor softmax_entropy(const tensor& probabilities) {
    return -sum(probabilities * log(clamp(probabilities, 1e-12f, 1.0f)), {1});
}

double image_uncertainty(const std::vector<float>& pixel_uncertainty) {
    if (pixel_uncertainty.empty()) throw error("image_uncertainty: no pixels");
    std::vector<float> sorted = pixel_uncertainty;
    std::sort(sorted.begin(), sorted.end(), std::greater<float>());
    const std::size_t top = std::max<std::size_t>(1, sorted.size() / 10);
    double total = 0;
    for (std::size_t i = 0; i < top; ++i) total += sorted[i];
    return total / static_cast<double>(top);
}

}  // namespace difflab::plugins
