// SPDX-License-Identifier: Apache-2.0
// The 'inception_score' metric: softmax probabilities, per-split KL divergences.
#include "inception_score_metric.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <cmath>

namespace difflab::plugins {

Eigen::MatrixXd softmax_rows(const Eigen::MatrixXd& logits) {
    Eigen::MatrixXd p = (logits.colwise() - logits.rowwise().maxCoeff()).array().exp().matrix();
    p.array().colwise() /= p.rowwise().sum().array();
    return p;
}

double inception_score(const Eigen::MatrixXd& probabilities, std::int64_t splits) {
    const Eigen::Index n = probabilities.rows();
    if (splits < 1 || splits > n)
        throw error(fmt::format("inception_score: {} splits of {} samples; need 1 <= splits <= samples", splits, n));
    double total = 0;
    for (std::int64_t s = 0; s < splits; ++s) {
        const Eigen::Index first = n * s / splits, last = n * (s + 1) / splits;
        const auto part = probabilities.middleRows(first, last - first);
        const Eigen::RowVectorXd marginal = part.colwise().mean();
        double kl = 0;
        for (Eigen::Index i = 0; i < part.rows(); ++i)
            for (Eigen::Index c = 0; c < part.cols(); ++c) {
                const double p = part(i, c);
                if (p > 0) kl += p * (std::log(p) - std::log(marginal(c)));
            }
        total += std::exp(kl / static_cast<double>(part.rows()));
    }
    return total / static_cast<double>(splits);
}

param_spec<inception_score_metric::options> inception_score_metric::params() {
    param_spec<options> spec{
        "Inception score (Salimans et al. 2016): exp(E KL(p(y|x) || p(y))) from a trained classifier's softmax."};
    add_feature_network_params(spec);
    spec.add(&options::splits, "splits",
             "Consecutive parts the samples are cut into; the score is the mean over parts (the paper: 10).",
             at_least<std::int64_t>(1));
    return spec;
}

inception_score_metric::inception_score_metric(const options& opts, build_context& ctx)
    : feature_space_metric(opts.feature_network, opts.batch_size, ctx), opts_(opts) {}

metric_values inception_score_metric::compute(const metric_inputs& in) {
    if (!in.samples.defined() || in.samples.dim() != 4 || in.samples.size(0) < opts_.splits)
        throw error(fmt::format("inception_score needs `samples` images [N, C, H, W] with N >= splits = {}, "
                                 "got {}",
                                opts_.splits, in.samples.defined() ? shape_text(in.samples.shape()) : "none"));
    return {{"inception_score", inception_score(softmax_rows(to_matrix(features().logits(in.samples))), opts_.splits)}};
}

metric_protocol inception_score_metric::settings() const {
    return {{"splits", std::to_string(opts_.splits)}};
}

}  // namespace difflab::plugins
