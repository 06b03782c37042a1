// SPDX-License-Identifier: Apache-2.0
// The feature network of feature-space metrics: a trained classifier loaded from a safetensors file.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/diffusion/network.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/tensor/tensor.h>

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

namespace difflab::plugins {

/// How to get a feature network file; ends every error about one.
inline constexpr const char* feature_network_hint =
    "train one with `difflab run experiments/fmnist_classifier.yaml` (it writes "
    "runs/fmnist_classifier/classifier.safetensors) and name that file in `feature_network`";

/// Where bare feature-network names are looked up: the source tree's models/ when this code runs
/// from the build tree, <prefix>/share/difflab/models when installed (found relative to the
/// installed plugin, so the install tree may move).
std::filesystem::path models_directory();

/// The file a `feature_network` option names: a value ending in ".safetensors" or containing a
/// '/' is a path (used as given); a bare name is models_directory()/<name>.safetensors.
std::filesystem::path resolve_feature_network(const std::string& value);

/// The SHA-256 of a file's bytes as 64 lowercase hex digits (OpenSSL EVP); errors name the file.
std::string file_sha256(const std::filesystem::path& file);

/// An f32 tensor [N, F] as a double matrix, one row per example.
Eigen::MatrixXd to_matrix(const tensor& values);

/// A trained classifier as a fixed embedding for metrics (FID, precision/recall, inception
/// score, classifier accuracy), in the role Inception-v3 plays for ImageNet-scale data (Heusel
/// et al. 2017). It reads a file written by the classifier_training task: the weights under
/// their module names, and in the safetensors metadata the network's resolved configuration
/// ("network", one-line YAML), "test_accuracy", "train_steps" and "experiment". The network is
/// built through the registry (the plugin that registers its type must be loaded), in eval mode,
/// and runs without autograd. A time-conditioned classifier is evaluated at noise level 0 (clean
/// images). Spends no denoiser evaluations.
class feature_network {
public:
    /// Loads `file`. A missing or damaged file, metadata without "network", or weights that do not
    /// fit the network are one-line errors naming the file and how to make a good one.
    feature_network(const std::filesystem::path& file, const registry& components, std::int64_t batch_size = 250);

    /// The pooled penultimate activations [N, F] of images x [N, C, H, W] in [-1, 1].
    tensor features(const tensor& x);
    /// The logits [N, num_classes] of x.
    tensor logits(const tensor& x);

    const std::filesystem::path& path() const { return path_; }
    /// SHA-256 of the file: part of every metric's protocol.
    const std::string& sha256() const { return sha256_; }
    /// The file's metadata ("network", "test_accuracy", "train_steps", "experiment").
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    network& net() { return *net_; }

private:
    /// Runs `f` on batches of x under no_grad and joins the results along dim 0.
    template <class F>
    tensor batched(const tensor& x, F f);

    std::filesystem::path path_;
    std::string sha256_;
    std::map<std::string, std::string> metadata_;
    std::unique_ptr<network> net_;
    bool time_conditioned_ = false;
    std::int64_t batch_size_;
};

/// Loads the file a `feature_network` option names (resolve_feature_network).
std::unique_ptr<feature_network> load_feature_network(const std::string& value, const registry& components,
                                                      std::int64_t batch_size);

/// Base of the metrics read in a feature network's space (fid, precision_recall,
/// classifier_accuracy, inception_score): it loads the network their `feature_network` option
/// names and puts its path and SHA-256 first in their protocol, then `settings()`.
class feature_space_metric : public metric {
public:
    metric_protocol protocol() const final;

protected:
    feature_space_metric(const std::string& feature_network_value, std::int64_t batch_size, build_context& ctx);
    /// The metric's own settings for the protocol (k, splits, ...).
    virtual metric_protocol settings() const { return {}; }
    feature_network& features() const { return *features_; }

private:
    std::unique_ptr<feature_network> features_;
};

/// Adds the `feature_network` and `batch_size` keys that every feature-space metric has to
/// `spec`; Options has members `std::string feature_network` and `std::int64_t batch_size`.
template <class Options>
void add_feature_network_params(param_spec<Options>& spec) {
    spec.add(&Options::feature_network, "feature_network",
             "Classifier whose features (or probabilities) the metric reads: a .safetensors file written by the "
             "classifier_training task, or a bare name looked up in difflab's models directory (models/ of the "
             "source tree, share/difflab/models when installed).",
             non_empty());
    spec.add(&Options::batch_size, "batch_size", "Images per feature-network evaluation (values do not depend on it).",
             at_least<std::int64_t>(1));
}

}  // namespace difflab::plugins
