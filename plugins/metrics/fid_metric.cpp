// SPDX-License-Identifier: Apache-2.0
// The 'fid' metric: feature statistics and the Fréchet distance of two Gaussians.
#include "fid_metric.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

namespace difflab::plugins {

namespace {

/// V diag(sqrt(max(lambda, 0))) V^T of a symmetric positive semi-definite matrix.
Eigen::MatrixXd psd_sqrt(const Eigen::MatrixXd& m) {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(m);
    if (solver.info() != Eigen::Success) throw error("fid: eigendecomposition of a covariance failed");
    const Eigen::VectorXd roots = solver.eigenvalues().cwiseMax(0.0).cwiseSqrt();
    return solver.eigenvectors() * roots.asDiagonal() * solver.eigenvectors().transpose();
}

/// The images of `field`, or an error naming what fid needs.
const tensor& needed(const tensor& t, const char* field) {
    if (!t.defined() || t.dim() != 4 || t.size(0) < 2)
        throw error(fmt::format("fid needs `{}` images [N, C, H, W] with N >= 2, got {}", field,
                                t.defined() ? shape_text(t.shape()) : "none"));
    return t;
}

}  // namespace

gaussian_statistics feature_statistics(const Eigen::MatrixXd& features) {
    if (features.rows() < 2)
        throw error(fmt::format("fid: a covariance needs at least 2 feature vectors, got {}", features.rows()));
    gaussian_statistics s;
    s.mean = features.colwise().mean().transpose();
    const Eigen::MatrixXd centered = features.rowwise() - s.mean.transpose();
    s.covariance = centered.transpose() * centered / static_cast<double>(features.rows() - 1);
    return s;
}

double frechet_distance(const Eigen::VectorXd& mu1, const Eigen::MatrixXd& c1, const Eigen::VectorXd& mu2,
                        const Eigen::MatrixXd& c2) {
    const Eigen::Index f = mu1.size();
    if (mu2.size() != f || c1.rows() != f || c1.cols() != f || c2.rows() != f || c2.cols() != f)
        throw error(fmt::format("fid: statistics of different dimensions ({} and {})", f, mu2.size()));
    // tr((c1 c2)^{1/2}) through the symmetric form c1^{1/2} c2 c1^{1/2}, which has the same
    // eigenvalues as c1 c2 but is positive semi-definite, so the root is real (pytorch-fid takes
    // scipy's sqrtm of the non-symmetric product and drops an imaginary part instead).
    const Eigen::MatrixXd root1 = psd_sqrt(c1);
    const Eigen::MatrixXd middle = root1 * c2 * root1;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver((middle + middle.transpose()) / 2,
                                                                Eigen::EigenvaluesOnly);
    if (solver.info() != Eigen::Success) throw error("fid: eigendecomposition of c1^1/2 c2 c1^1/2 failed");
    const double trace_root = solver.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
    const double value = (mu1 - mu2).squaredNorm() + c1.trace() + c2.trace() - 2 * trace_root;
    return std::max(value, 0.0);
}

param_spec<fid_metric::options> fid_metric::params() {
    param_spec<options> spec{
        "Fréchet inception distance (Heusel et al. 2017) between samples and reference in the feature space of a "
        "trained classifier."};
    add_feature_network_params(spec);
    return spec;
}

fid_metric::fid_metric(const options& opts, build_context& ctx)
    : feature_space_metric(opts.feature_network, opts.batch_size, ctx), opts_(opts) {}

metric_values fid_metric::compute(const metric_inputs& in) {
    const gaussian_statistics a = feature_statistics(to_matrix(features().features(needed(in.samples, "samples"))));
    const gaussian_statistics b = feature_statistics(to_matrix(features().features(needed(in.reference, "reference"))));
    return {{"fid", frechet_distance(a.mean, a.covariance, b.mean, b.covariance)}};
}

}  // namespace difflab::plugins
