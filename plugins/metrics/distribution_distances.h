// SPDX-License-Identifier: Apache-2.0
// Distances between the distributions of samples and reference: sliced Wasserstein and MMD.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <Eigen/Dense>
#include <cstdint>

namespace difflab::plugins {

/// Sliced 2-Wasserstein distance (Rabin et al. 2011; Bonneel et al. 2015; difflab's
/// sliced_wasserstein in difflab/diffusion/sample_distances.h) between samples [N, ...] and reference
/// [M, ...], each row flattened to D values (equal D). It pairs sorted projections, so it
/// needs equally many rows: with N != M it uses the first min(N, M) rows of each. The
/// directions are drawn from the harness's seed. Value "sliced_wasserstein". No denoiser
/// evaluations.
class sliced_wasserstein_metric final : public metric {
public:
    struct options {
        std::int64_t projections = 128;
    };
    static param_spec<options> params();
    sliced_wasserstein_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
    metric_protocol protocol() const override;

private:
    options opts_;
};

/// Squared maximum mean discrepancy between samples [N, ...] and reference [M, ...] (rows
/// flattened to equal D values) with the Gaussian kernel k(x, y) = exp(-|x - y|^2 / (2 h^2)),
/// by the unbiased estimator MMD_u^2 of Gretton, Borgwardt, Rasch, Schoelkopf & Smola 2012,
/// "A kernel two-sample test" (eq. 3): the within-set means over distinct pairs minus twice the
/// cross mean. Unbiased, so it scatters around 0 (and can be slightly negative) for equal
/// distributions. bandwidth 0 takes the median heuristic: h = the median distance |z_i - z_j|
/// over pairs i < j of the pooled set, at most the first 1000 rows of each set (the median
/// settles long before; the full set would cost (N + M)^2 / 2 distances in memory). Value "mmd".
/// Costs O((N + M)^2 D); no denoiser evaluations.
class mmd_metric final : public metric {
public:
    struct options {
        double bandwidth = 0.0;
    };
    static param_spec<options> params();
    mmd_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
    metric_protocol protocol() const override;

private:
    options opts_;
};

/// The unbiased MMD_u^2 between the rows of x and of y (each at least 2 rows, equal columns)
/// with the Gaussian kernel of bandwidth h > 0.
double mmd_unbiased(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double bandwidth);

/// The median of |z_i - z_j| over the pairs i < j of rows of z (at least 2); with an even
/// number of pairs, the mean of the two middle distances (as numpy.median).
double median_pairwise_distance(const Eigen::MatrixXd& z);

/// How many rows of each set median_pairwise_distance sees for mmd's median heuristic.
constexpr Eigen::Index mmd_median_rows = 1000;

}  // namespace difflab::plugins
