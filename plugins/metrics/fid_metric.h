// SPDX-License-Identifier: Apache-2.0
// The 'fid' metric: Fréchet distance between Gaussians fitted to feature-network embeddings.
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

/// The mean and covariance of a set of feature vectors.
struct gaussian_statistics {
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;
};

/// Mean and covariance of the rows of `features` [N, F] (N >= 2), the covariance with the N - 1
/// denominator as pytorch-fid's np.cov(rowvar=False).
gaussian_statistics feature_statistics(const Eigen::MatrixXd& features);

/// The Fréchet (2-Wasserstein) distance between N(mu1, c1) and N(mu2, c2):
///     |mu1 - mu2|^2 + tr(c1 + c2 - 2 (c1^{1/2} c2 c1^{1/2})^{1/2}),
/// in double precision with symmetric eigendecompositions (tiny negative eigenvalues of the
/// positive semi-definite factors, rounding noise, are clamped to 0). Never negative.
double frechet_distance(const Eigen::VectorXd& mu1, const Eigen::MatrixXd& c1, const Eigen::VectorXd& mu2,
                        const Eigen::MatrixXd& c2);

/// Fréchet inception distance (Heusel, Ramsauer, Unterthiner, Nessler & Hochreiter 2017, "GANs
/// trained by a two time-scale update rule converge to a local Nash equilibrium"): the Fréchet
/// distance between Gaussians fitted to the feature network's embeddings of `samples` and of
/// `reference` (lower is better; 0 for identical sets). The embedding is difflab's trained
/// classifier (default: the Fashion-MNIST one in models/) instead of Inception-v3, so values are
/// comparable between difflab runs with the same feature_network_sha256, not with published
/// ImageNet-feature FIDs. Spends no denoiser evaluations.
class fid_metric final : public feature_space_metric {
public:
    struct options {
        std::string feature_network = "fmnist_classifier";
        std::int64_t batch_size = 250;
    };
    static param_spec<options> params();
    fid_metric(const options& opts, build_context& ctx);

    /// {"fid", value}; needs samples and reference images, at least 2 of each.
    metric_values compute(const metric_inputs& in) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
