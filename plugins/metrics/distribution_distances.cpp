// SPDX-License-Identifier: Apache-2.0
// Sliced Wasserstein and the unbiased Gaussian-kernel MMD between sample sets.
#include "distribution_distances.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/sample_distances.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "metric_input_checks.h"

namespace difflab::plugins {

namespace {

using row_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The first `rows` rows of t, flattened, as a row-major matrix.
row_matrix rows_of(const tensor& t, std::int64_t rows) {
    const std::vector<double> v = values_of(t.slice(0, 0, rows));
    return Eigen::Map<const row_matrix>(v.data(), rows, row_size(t));
}

/// Checks samples and reference as two sets of rows of equal size.
void check_sets(const metric_inputs& in, const std::string& name) {
    require_input(in.samples, name, "samples", "the generated samples [N, ...]");
    require_input(in.reference, name, "reference", "the reference data [M, ...]");
    if (row_size(in.samples) != row_size(in.reference))
        throw error(fmt::format("{}: samples {} and reference {} have {} and {} values per row; {} compares "
                                 "rows of equal size",
                                name, shape_text(in.samples.shape()), shape_text(in.reference.shape()),
                                row_size(in.samples), row_size(in.reference), name));
}

/// sum over (i, j) of exp(-|a_i - b_j|^2 / (2 h^2)), without i == j when `distinct`; the squared
/// distances from |a|^2 + |b|^2 - 2 a.b in blocks of rows, so memory stays O(block * rows(b)).
double kernel_sum(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double bandwidth, bool distinct) {
    const Eigen::VectorXd na = a.rowwise().squaredNorm(), nb = b.rowwise().squaredNorm();
    const double scale = -0.5 / (bandwidth * bandwidth);
    constexpr Eigen::Index block = 256;
    double total = 0;
    for (Eigen::Index start = 0; start < a.rows(); start += block) {
        const Eigen::Index rows = std::min(block, a.rows() - start);
        const Eigen::MatrixXd dot = a.middleRows(start, rows) * b.transpose();
        for (Eigen::Index j = 0; j < b.rows(); ++j)
            for (Eigen::Index i = 0; i < rows; ++i) {
                if (distinct && start + i == j) continue;
                total += std::exp(scale * std::max(na(start + i) + nb(j) - 2 * dot(i, j), 0.0));
            }
    }
    return total;
}

}  // namespace

double mmd_unbiased(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, double bandwidth) {
    if (x.rows() < 2 || y.rows() < 2 || x.cols() != y.cols() || !(bandwidth > 0))
        throw error(fmt::format("mmd: needs two sets of at least 2 rows of equal size and a positive bandwidth, "
                                 "got {}x{} and {}x{} with bandwidth {}",
                                x.rows(), x.cols(), y.rows(), y.cols(), bandwidth));
    const double m = static_cast<double>(x.rows()), n = static_cast<double>(y.rows());
    return kernel_sum(x, x, bandwidth, true) / (m * (m - 1)) + kernel_sum(y, y, bandwidth, true) / (n * (n - 1)) -
           2 * kernel_sum(x, y, bandwidth, false) / (m * n);
}

double median_pairwise_distance(const Eigen::MatrixXd& z) {
    if (z.rows() < 2) throw error("mmd: the median heuristic needs at least 2 rows");
    const Eigen::VectorXd norms = z.rowwise().squaredNorm();
    const Eigen::MatrixXd dot = z * z.transpose();
    std::vector<double> d;
    d.reserve(static_cast<std::size_t>(z.rows() * (z.rows() - 1) / 2));
    for (Eigen::Index j = 1; j < z.rows(); ++j)
        for (Eigen::Index i = 0; i < j; ++i) d.push_back(std::sqrt(std::max(norms(i) + norms(j) - 2 * dot(i, j), 0.0)));
    const std::size_t mid = d.size() / 2;
    std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(mid), d.end());
    const double upper = d[mid];
    if (d.size() % 2 == 1) return upper;
    return 0.5 * (upper + *std::max_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(mid)));
}

// --- sliced_wasserstein ----------------------------------------------------------------------

param_spec<sliced_wasserstein_metric::options> sliced_wasserstein_metric::params() {
    param_spec<options> spec{
        "Sliced 2-Wasserstein distance between samples and reference (rows flattened; the first min(N, M) rows)."};
    spec.add(&options::projections, "projections", "Random directions averaged over (drawn from the run's seed).",
             at_least<std::int64_t>(1));
    return spec;
}

sliced_wasserstein_metric::sliced_wasserstein_metric(const options& opts, build_context&) : opts_(opts) {}

metric_values sliced_wasserstein_metric::compute(const metric_inputs& in) {
    check_sets(in, "sliced_wasserstein");
    const std::int64_t rows = std::min(in.samples.size(0), in.reference.size(0));
    const row_matrix a = rows_of(in.samples, rows), b = rows_of(in.reference, rows);
    return {{"sliced_wasserstein", sliced_wasserstein(a.data(), b.data(), rows, a.cols(), opts_.projections, in.seed)}};
}

metric_protocol sliced_wasserstein_metric::protocol() const {
    return {{"projections", std::to_string(opts_.projections)}};
}

// --- mmd -------------------------------------------------------------------------------------

param_spec<mmd_metric::options> mmd_metric::params() {
    param_spec<options> spec{
        "Squared maximum mean discrepancy (unbiased, Gaussian kernel) between samples and reference."};
    spec.add(&options::bandwidth, "bandwidth",
             "Gaussian kernel width h in exp(-|x - y|^2 / (2 h^2)); 0: the median pairwise distance of the pooled "
             "sets (at most 1000 rows of each).",
             at_least(0.0));
    return spec;
}

mmd_metric::mmd_metric(const options& opts, build_context&) : opts_(opts) {}

metric_values mmd_metric::compute(const metric_inputs& in) {
    check_sets(in, "mmd");
    if (in.samples.size(0) < 2 || in.reference.size(0) < 2)
        throw error(fmt::format("mmd: samples {} and reference {} need at least 2 rows each for the unbiased "
                                 "estimator",
                                shape_text(in.samples.shape()), shape_text(in.reference.shape())));
    const Eigen::MatrixXd x = rows_of(in.samples, in.samples.size(0));
    const Eigen::MatrixXd y = rows_of(in.reference, in.reference.size(0));
    double bandwidth = opts_.bandwidth;
    if (bandwidth == 0) {
        const Eigen::Index mx = std::min(x.rows(), mmd_median_rows), my = std::min(y.rows(), mmd_median_rows);
        Eigen::MatrixXd pooled(mx + my, x.cols());
        pooled << x.topRows(mx), y.topRows(my);
        bandwidth = median_pairwise_distance(pooled);
        if (!(bandwidth > 0))
            throw error(
                "mmd: the median pairwise distance is 0 (more than half the rows coincide); set "
                "bandwidth explicitly");
    }
    return {{"mmd", mmd_unbiased(x, y, bandwidth)}};
}

metric_protocol mmd_metric::protocol() const {
    return {{"kernel", "gaussian"},
            {"bandwidth", opts_.bandwidth == 0 ? "median heuristic (at most 1000 rows of each set)"
                                               : fmt::format("{}", opts_.bandwidth)}};
}

}  // namespace difflab::plugins
