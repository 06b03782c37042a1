// SPDX-License-Identifier: Apache-2.0
// Tests of the committed Fashion-MNIST feature network and of the metrics end to end with it.
#include "feature_network.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "classifier_accuracy_metric.h"
#include "feature_distance_metric.h"
#include "fid_metric.h"
#include "inception_score_metric.h"
#include "metrics_test_plugins.h"
#include "precision_recall_metric.h"

using namespace difflab;
using namespace difflab::plugins;
namespace fs = std::filesystem;

namespace {

/// The Fashion-MNIST test split (10,000 images and labels), loaded once.
const example_batch& test_set() {
    static const example_batch all = [] {
        const registry& components = metrics_testing::loaded_plugins();
        build_context builder(components, 0);
        const auto made = builder.create(
            "dataset", components.resolve("dataset", parse_yaml("{type: fashion_mnist, split: test}", "test.yaml"),
                                          parse_context(&components)));
        const auto& data = static_cast<const dataset&>(*made);
        std::vector<std::int64_t> indices(static_cast<std::size_t>(data.size()));
        for (std::int64_t i = 0; i < data.size(); ++i) indices[static_cast<std::size_t>(i)] = i;
        return data.get(indices);
    }();
    return all;
}

feature_network& committed() {
    static feature_network network(metrics_testing::committed_classifier(), metrics_testing::loaded_plugins());
    return network;
}

/// A metric of the loaded metrics plugin, built from YAML as an experiment would.
template <class M>
std::unique_ptr<M> make_metric(const std::string& yaml) {
    const registry& components = metrics_testing::loaded_plugins();
    build_context builder(components, 0);
    std::unique_ptr<component> made = builder.create(
        "metric", components.resolve("metric", parse_yaml(yaml, "metric.yaml"), parse_context(&components)));
    return std::unique_ptr<M>(static_cast<M*>(made.release()));
}

/// The message of the error `f` throws ("" if none).
template <class F>
std::string error_text(F f) {
    try {
        f();
    } catch (const error& e) {
        return e.what();
    }
    return "";
}

fs::path scratch(const std::string& name) {
    // Per process: test runs of several build trees may share /tmp.
    const fs::path dir = fs::temp_directory_path() / ("difflab_metrics_feature_network_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir / name;
}

}  // namespace

TEST_CASE("bare feature-network names are looked up in the source tree's models/ from a build tree") {
    CHECK(resolve_feature_network("fmnist_classifier") == metrics_testing::committed_classifier());
    CHECK(fs::equivalent(models_directory(), metrics_testing::committed_classifier().parent_path()));
    CHECK(resolve_feature_network("runs/x/classifier.safetensors") == fs::path("runs/x/classifier.safetensors"));
    CHECK(resolve_feature_network("my.safetensors") == fs::path("my.safetensors"));
}

TEST_CASE("file_sha256 is SHA-256") {
    const fs::path file = scratch("abc.txt");
    std::ofstream(file, std::ios::binary) << "abc";
    // FIPS 180-2's first example.
    CHECK(file_sha256(file) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    fs::remove_all(file.parent_path());
}

TEST_CASE("the committed Fashion-MNIST classifier reaches 90% test accuracy on all 10,000 test images") {
    const example_batch& test = test_set();
    REQUIRE(test.x.size(0) == 10000);
    const auto start = std::chrono::steady_clock::now();
    const double accuracy = classification_accuracy(committed().logits(test.x), test.labels);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("test accuracy " << accuracy << " in " << seconds << " s");
    CHECK(accuracy >= 0.90);
    // The accuracy the training run recorded in the file is this one (batching aside).
    CHECK(std::abs(accuracy - std::stod(committed().metadata().at("test_accuracy"))) <= 2e-4);
    CHECK(committed().sha256() == file_sha256(metrics_testing::committed_classifier()));
}

TEST_CASE("FID with the real feature network: same-distribution halves small, noise large, a set to itself 0") {
    const example_batch& test = test_set();
    auto fid = make_metric<fid_metric>(
        fmt::format("{{type: fid, feature_network: {}}}", metrics_testing::committed_classifier().string()));
    metric_inputs in;
    in.samples = test.x.slice(0, 0, 1000).contiguous();
    in.reference = test.x.slice(0, 1000, 2000).contiguous();
    const double halves = fid->compute(in).front().second;
    in.reference = in.samples;
    const double self = fid->compute(in).front().second;
    in.reference = clamp(randn({1000, 1, 28, 28}, 0, random_purpose("test/noise_images")), -1.0f, 1.0f);
    const double noise = fid->compute(in).front().second;
    MESSAGE("FID halves " << halves << ", to noise " << noise << ", to itself " << self);
    CHECK(halves > 0.0);
    CHECK(halves < 0.02 * noise);
    CHECK(self <= 1e-6 * noise);
    // Its protocol names the file and its hash.
    const metric_protocol protocol = fid->protocol();
    REQUIRE(protocol.size() == 2);
    CHECK(protocol[0].second == metrics_testing::committed_classifier().string());
    CHECK(protocol[1] == std::pair<std::string, std::string>{"feature_network_sha256", committed().sha256()});
}

TEST_CASE("precision, recall, inception score and class accuracy with the real feature network") {
    const example_batch& test = test_set();
    metric_inputs in;
    in.samples = test.x.slice(0, 0, 1000).contiguous();
    in.reference = test.x.slice(0, 1000, 2000).contiguous();
    in.sample_labels = test.labels.slice(0, 0, 1000).contiguous();
    const std::string network = fmt::format("feature_network: {}", metrics_testing::committed_classifier().string());

    auto pr = make_metric<precision_recall_metric>("{type: precision_recall, " + network + "}");
    const metric_values close = pr->compute(in);
    REQUIRE(close.size() == 2);
    CHECK(close[0].first == "precision");
    CHECK(close[1].first == "recall");
    CHECK(close[0].second > 0.6);
    CHECK(close[1].second > 0.6);
    CHECK(pr->protocol().back() == std::pair<std::string, std::string>{"k", "3"});
    metric_inputs same = in;
    same.reference = same.samples;
    const metric_values identical = pr->compute(same);
    CHECK(identical[0].second == 1.0);
    CHECK(identical[1].second == 1.0);
    // Noise images all embed in one small region, which happens to lie inside the data manifold
    // (precision about 0.9 measured): to the metric they are a collapsed generator, whose
    // signature is a recall near 0.
    metric_inputs noisy = in;
    noisy.samples = clamp(randn({1000, 1, 28, 28}, 0, random_purpose("test/noise_images")), -1.0f, 1.0f);
    const metric_values far = pr->compute(noisy);
    CHECK(far[1].second < 0.2);

    auto is = make_metric<inception_score_metric>("{type: inception_score, splits: 2, " + network + "}");
    const double real_score = is->compute(in).front().second;
    const double noise_score = is->compute(noisy).front().second;
    MESSAGE("precision " << close[0].second << ", recall " << close[1].second << " (noise: " << far[0].second << ", "
                         << far[1].second << "); inception score " << real_score << " (noise " << noise_score << ")");
    CHECK(real_score > 5.0);  // ten balanced classes, mostly confident
    CHECK(real_score <= 10.0);
    CHECK(noise_score < 2.0);  // noise images all look alike to the classifier

    auto accuracy = make_metric<classifier_accuracy_metric>("{type: classifier_accuracy, " + network + "}");
    CHECK(accuracy->compute(in).front().second >= 0.88);
    in.sample_labels = tensor();
    CHECK(error_text([&] { accuracy->compute(in); }).find("sample_labels") != std::string::npos);
}

TEST_CASE("missing, truncated and metadata-less files are one-line errors with the fix") {
    const registry& components = metrics_testing::loaded_plugins();
    const auto check_message = [](const std::string& message, const fs::path& file) {
        CHECK(message.find(file.string()) == 0);
        CHECK(message.find("difflab run experiments/fmnist_classifier.yaml") != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    };
    const fs::path missing = scratch("missing.safetensors");
    fs::remove(missing);
    check_message(error_text([&] { feature_network(missing, components); }), missing);

    const fs::path truncated = scratch("truncated.safetensors");
    {
        std::ifstream in(metrics_testing::committed_classifier(), std::ios::binary);
        std::string bytes(2000, '\0');
        in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        std::ofstream(truncated, std::ios::binary) << bytes;
    }
    check_message(error_text([&] { feature_network(truncated, components); }), truncated);

    const fs::path bare = scratch("bare.safetensors");
    safetensors_file plain;
    plain.add(to_safetensors("w", tensor::ones({2})));
    write_safetensors(bare, plain);
    const std::string no_metadata = error_text([&] { feature_network(bare, components); });
    check_message(no_metadata, bare);
    CHECK(no_metadata.find("\"network\"") != std::string::npos);

    // Weights that do not fit the network named in the metadata.
    plain.metadata["network"] = "{type: classifier, time_conditioned: false, channels: 8, groups: 4}";
    write_safetensors(bare, plain);
    check_message(error_text([&] { feature_network(bare, components); }), bare);
    // An unknown network type.
    plain.metadata["network"] = "{type: no_such_network}";
    write_safetensors(bare, plain);
    check_message(error_text([&] { feature_network(bare, components); }), bare);
    // By bare name, a model that is not there.
    CHECK(error_text([&] {
              load_feature_network("no_such_model", components, 10);
          }).find("no_such_model.safetensors") != std::string::npos);
    fs::remove_all(scratch("x").parent_path());
}

TEST_CASE("feature_distance is the mean L2 distance of paired features: 0 to itself, growing with the noise") {
    const example_batch& test = test_set();
    auto distance = make_metric<feature_distance_metric>(fmt::format("{{type: feature_distance, feature_network: {}}}",
                                                                     metrics_testing::committed_classifier().string()));
    metric_inputs in;
    in.samples = test.x.slice(0, 0, 64).contiguous();
    in.reference = in.samples;
    CHECK(distance->compute(in).front().second == 0.0);

    // By hand from the feature vectors, for a set and a slightly noised copy of it.
    const tensor noise = randn({64, 1, 28, 28}, 0, random_purpose("test/feature_distance"));
    in.reference = clamp(in.samples + noise * 0.1f, -1.0f, 1.0f);
    const std::vector<float> a = committed().features(in.samples).to_vector(),
                             b = committed().features(in.reference).to_vector();
    const std::size_t width = a.size() / 64;
    double expected = 0;
    for (std::size_t i = 0; i < 64; ++i) {
        double squared = 0;
        for (std::size_t j = 0; j < width; ++j) squared += std::pow(double(a[i * width + j]) - b[i * width + j], 2);
        expected += std::sqrt(squared) / 64;
    }
    const double slight = distance->compute(in).front().second;
    CHECK(slight == doctest::Approx(expected).epsilon(1e-9));
    in.reference = clamp(in.samples + noise * 0.5f, -1.0f, 1.0f);
    const double strong = distance->compute(in).front().second;
    MESSAGE("feature distance at noise 0.1: " << slight << ", at 0.5: " << strong);
    CHECK(slight > 0.0);
    CHECK(strong > 2 * slight);
    in.reference = test.x.slice(0, 1, 64).contiguous();
    CHECK_THROWS_WITH_AS(distance->compute(in), doctest::Contains("must have the same shape"), difflab::error);
}
