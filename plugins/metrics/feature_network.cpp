// SPDX-License-Identifier: Apache-2.0
// The feature network: loading, hashing and batched evaluation of a trained classifier file.
#include "feature_network.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/network_file.h>
#include <difflab/plugin/config_node.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/precision.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <fstream>
#include <vector>

#ifndef DIFFLAB_BUILD_DIR
#error "DIFFLAB_BUILD_DIR must name the build tree (plugins/metrics/CMakeLists.txt defines it)"
#endif

namespace difflab::plugins {

namespace fs = std::filesystem;

namespace {

/// Whether `path` lies inside `directory` (both made absolute and normalized).
bool is_inside(const fs::path& path, const fs::path& directory) {
    const fs::path p = fs::weakly_canonical(path), d = fs::weakly_canonical(directory);
    auto pi = p.begin();
    for (auto di = d.begin(); di != d.end(); ++di, ++pi) {
        if (di->empty()) continue;  // the trailing "" of "dir/"
        if (pi == p.end() || *pi != *di) return false;
    }
    return true;
}

}  // namespace

fs::path models_directory() {
    // This plugin (or a test binary linking its code): in the build tree the models are the
    // source tree's; installed, they sit at a fixed place relative to the plugin directory.
    const fs::path here = boost::dll::this_line_location();
    if (is_inside(here, DIFFLAB_BUILD_DIR)) return fs::path(DIFFLAB_SOURCE_MODELS_DIR);
    return (here.parent_path() / DIFFLAB_MODELS_FROM_PLUGIN_DIR).lexically_normal();
}

fs::path resolve_feature_network(const std::string& value) {
    const fs::path given(value);
    if (given.extension() == ".safetensors" || value.find('/') != std::string::npos) return given;
    return models_directory() / (value + ".safetensors");
}

std::string file_sha256(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw error(source_mark{file.string()}, "cannot open the file to hash it");
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1)
        throw error("OpenSSL cannot start a SHA-256 digest");
    std::vector<char> buffer(std::size_t{1} << 16);
    while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto got = static_cast<std::size_t>(in.gcount());
        if (got > 0 && EVP_DigestUpdate(md.get(), buffer.data(), got) != 1)
            throw error(source_mark{file.string()}, "OpenSSL SHA-256 update failed");
    }
    if (in.bad()) throw error(source_mark{file.string()}, "read error while hashing the file");
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(md.get(), digest, &length) != 1)
        throw error(source_mark{file.string()}, "OpenSSL SHA-256 finalization failed");
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

Eigen::MatrixXd to_matrix(const tensor& values) {
    if (!values.defined() || values.dim() != 2)
        throw error(fmt::format("expected a matrix [N, F], got {}",
                                values.defined() ? shape_text(values.shape()) : "an undefined tensor"));
    const std::vector<float> flat = values.contiguous().to_vector();
    const Eigen::Index rows = values.size(0), cols = values.size(1);
    Eigen::MatrixXd out(rows, cols);
    for (Eigen::Index i = 0; i < rows; ++i)
        for (Eigen::Index j = 0; j < cols; ++j) out(i, j) = flat[static_cast<std::size_t>(i * cols + j)];
    return out;
}

feature_network::feature_network(const fs::path& file, const registry& components, std::int64_t batch_size)
    : path_(file), batch_size_(batch_size) {
    network_file loaded = read_network_file(file, components, feature_network_hint);
    net_ = std::move(loaded.net);
    metadata_ = std::move(loaded.metadata);
    const config_node* conditioned = loaded.config.find("time_conditioned");
    time_conditioned_ = conditioned && conditioned->is_scalar() && conditioned->text() == "true";
    sha256_ = file_sha256(file);
}

template <class F>
tensor feature_network::batched(const tensor& x, F f) {
    if (!x.defined() || x.dim() != 4 || x.size(0) < 1)
        throw error(fmt::format("feature network {}: expected images [N, C, H, W] with N >= 1, got {}", path_.string(),
                                x.defined() ? shape_text(x.shape()) : "an undefined tensor"));
    const no_grad_guard no_grad;
    // fp32 whatever the task samples in (sample.precision): metrics of bf16 and fp32 samples
    // are then measured with the same embedding.
    const precision_scope fp32(dtype::f32);
    std::vector<tensor> parts;
    for (std::int64_t begin = 0; begin < x.size(0); begin += batch_size_) {
        const std::int64_t end = std::min(x.size(0), begin + batch_size_);
        const tensor noise = time_conditioned_ ? tensor::zeros({end - begin}) : tensor();
        parts.push_back(f(x.slice(0, begin, end).contiguous(), noise).contiguous());
    }
    return parts.size() == 1 ? parts.front() : concat(parts, 0);
}

tensor feature_network::features(const tensor& x) {
    return batched(x, [this](const tensor& batch, const tensor& noise) { return net_->features(batch, noise); });
}

tensor feature_network::logits(const tensor& x) {
    return batched(x, [this](const tensor& batch, const tensor& noise) { return net_->forward(batch, noise, {}); });
}

std::unique_ptr<feature_network> load_feature_network(const std::string& value, const registry& components,
                                                      std::int64_t batch_size) {
    return std::make_unique<feature_network>(resolve_feature_network(value), components, batch_size);
}

feature_space_metric::feature_space_metric(const std::string& feature_network_value, std::int64_t batch_size,
                                           build_context& ctx)
    : features_(load_feature_network(feature_network_value, ctx.components(), batch_size)) {}

metric_protocol feature_space_metric::protocol() const {
    metric_protocol out = {{"feature_network", features_->path().string()},
                           {"feature_network_sha256", features_->sha256()}};
    for (auto& entry : settings()) out.push_back(std::move(entry));
    return out;
}

}  // namespace difflab::plugins
