// SPDX-License-Identifier: Apache-2.0
// The 'gmm' dataset.
#include "gmm_dataset.h"

#include <difflab/base/error.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

namespace difflab::plugins {

namespace {

gaussian_mixture make_mixture(const gmm_dataset::options& o) {
    std::int64_t d = 1;
    for (std::int64_t s : o.shape) d *= s;
    const bool given = !o.means.empty();
    const std::int64_t k = given ? static_cast<std::int64_t>(o.means.size()) : o.components;
    philox_stream stream(static_cast<std::uint64_t>(o.seed), random_purpose("gmm/params"), 0);
    auto normals = [&](std::int64_t n) {
        std::vector<float> v(static_cast<std::size_t>(n));
        stream.normal(v.data(), v.size());
        return Eigen::Map<Eigen::VectorXf>(v.data(), n).cast<double>().eval();
    };

    std::vector<double> weights = o.weights.empty() ? std::vector<double>(static_cast<std::size_t>(k), 1.0) : o.weights;
    std::vector<Eigen::VectorXd> means;
    std::vector<Eigen::MatrixXd> covariances;
    for (std::int64_t c = 0; c < k; ++c) {
        if (given) {
            const auto& m = o.means[static_cast<std::size_t>(c)];
            if (static_cast<std::int64_t>(m.size()) != d)
                throw config_error(
                    fmt::format("gmm: mean {} has {} values but shape {} has {}", c, m.size(), shape_text(o.shape), d));
            means.push_back(Eigen::Map<const Eigen::VectorXd>(m.data(), static_cast<Eigen::Index>(m.size())));
        } else {
            means.push_back(o.spread * normals(d));
        }
        if (!o.covariances.empty()) {
            if (o.covariances.size() != static_cast<std::size_t>(k))
                throw config_error(fmt::format("gmm: {} covariances for {} components", o.covariances.size(), k));
            const auto& c_values = o.covariances[static_cast<std::size_t>(c)];
            if (static_cast<std::int64_t>(c_values.size()) != d * d)
                throw config_error(fmt::format("gmm: covariance {} has {} values; a {}x{} matrix needs {}", c,
                                               c_values.size(), d, d, d * d));
            covariances.push_back(
                Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
                    c_values.data(), d, d));
        } else if (o.covariance == "isotropic") {
            covariances.push_back(o.scale * o.scale * Eigen::MatrixXd::Identity(d, d));
        } else if (o.covariance == "diagonal") {
            const Eigen::VectorXd stds = o.scale * (0.5 * normals(d).array().tanh() + 1.0).matrix();
            covariances.push_back(stds.array().square().matrix().asDiagonal());
        } else {  // full: A A^T / d plus a floor, so that it is well conditioned
            Eigen::MatrixXd a(d, d);
            for (std::int64_t r = 0; r < d; ++r) a.row(r) = normals(d).transpose();
            covariances.push_back(o.scale * o.scale *
                                  (a * a.transpose() / static_cast<double>(d) + 0.1 * Eigen::MatrixXd::Identity(d, d)));
        }
    }
    return gaussian_mixture(std::move(weights), std::move(means), std::move(covariances));
}

}  // namespace

param_spec<gmm_dataset::options> gmm_dataset::params() {
    param_spec<options> spec{"Gaussian mixture data in any shape, with its exact denoiser (testing oracle)."};
    spec.add(&options::shape, "shape", "Shape of one example: [D] points or [C, H, W] images.",
             at_least<std::int64_t>(1));
    spec.add(&options::size, "size", "Number of examples.", at_least<std::int64_t>(1));
    spec.add(&options::components, "components", "Number of components when the means are drawn at random.",
             at_least<std::int64_t>(1));
    spec.add(&options::weights, "weights", "Component weights (normalized); empty: equal.");
    spec.add(&options::means, "means", "One mean per component (D values each); empty: drawn from seed.");
    spec.add(&options::covariances, "covariances", "One row-major D x D covariance per component; empty: drawn.");
    spec.add(&options::spread, "spread", "Standard deviation of drawn means.", greater_than(0.0));
    spec.add(&options::scale, "scale", "Scale (standard deviation) of drawn covariances.", greater_than(0.0));
    spec.add(&options::covariance, "covariance", "Form of drawn covariances.",
             one_of({"isotropic", "diagonal", "full"}));
    spec.add(&options::seed, "seed", "Seed of the mixture and of its examples (not the experiment's).",
             at_least<std::int64_t>(0));
    return spec;
}

gmm_dataset::gmm_dataset(const options& opts, build_context&) : opts_(opts), mixture_(make_mixture(opts)) {}

example_batch gmm_dataset::get(const std::vector<std::int64_t>& indices) const {
    const std::int64_t d = mixture_.dimension(), n = static_cast<std::int64_t>(indices.size());
    shape_t shape{n};
    shape.insert(shape.end(), opts_.shape.begin(), opts_.shape.end());
    example_batch batch{tensor::empty(shape), tensor::empty({n})};
    float* x = batch.x.data<float>();
    float* labels = batch.labels.data<float>();
    std::vector<float> z(static_cast<std::size_t>(d));
    for (std::int64_t i = 0; i < n; ++i) {
        philox_stream stream(static_cast<std::uint64_t>(opts_.seed), random_purpose("gmm/example"),
                             static_cast<std::uint64_t>(indices[static_cast<std::size_t>(i)]));
        float u = 0;
        stream.uniform(&u, 1);
        stream.normal(z.data(), z.size());
        const std::int64_t k = mixture_.component_of(u);
        const Eigen::VectorXd value = mixture_.sample(k, Eigen::Map<Eigen::VectorXf>(z.data(), d).cast<double>());
        for (std::int64_t j = 0; j < d; ++j) x[i * d + j] = static_cast<float>(value(j));
        labels[i] = static_cast<float>(k);
    }
    return batch;
}

}  // namespace difflab::plugins
