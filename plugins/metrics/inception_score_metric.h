// SPDX-License-Identifier: Apache-2.0
// The 'inception_score' metric: exp of the mean KL divergence of p(y|x) from p(y).
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>

#include "feature_network.h"

namespace difflab::plugins {

/// Row-wise softmax of logits [N, C] in double precision (max-shifted, so large logits are safe).
Eigen::MatrixXd softmax_rows(const Eigen::MatrixXd& logits);

/// The inception score of class probabilities [N, C] (rows sum to 1): the rows are cut into
/// `splits` consecutive parts of (nearly) equal size; for each part exp(mean_x KL(p(y|x) || p(y)))
/// with p(y) the part's mean row; the result is the mean over parts. 0 log 0 counts as 0.
/// Needs 1 <= splits <= N.
double inception_score(const Eigen::MatrixXd& probabilities, std::int64_t splits);

/// Inception score (Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen 2016, "Improved
/// techniques for training GANs", section 4): exp(E_x KL(p(y|x) || p(y))) with p(y|x) the
/// feature network's softmax. High when each sample is confidently one class and the classes are
/// evenly covered: 1 when every sample is the same class, num_classes at best. The paper cuts
/// 50,000 samples into 10 splits and reports the mean (and standard deviation); `splits` sets
/// the cut (default 1: the whole set at once). Spends no denoiser evaluations.
class inception_score_metric final : public feature_space_metric {
public:
    struct options {
        std::string feature_network = "fmnist_classifier";
        std::int64_t batch_size = 250;
        std::int64_t splits = 1;
    };
    static param_spec<options> params();
    inception_score_metric(const options& opts, build_context& ctx);

    /// {"inception_score", mean over splits}; needs at least `splits` samples.
    metric_values compute(const metric_inputs& in) override;

private:
    metric_protocol settings() const override;

    options opts_;
};

}  // namespace difflab::plugins
