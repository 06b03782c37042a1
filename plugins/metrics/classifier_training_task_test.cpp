// SPDX-License-Identifier: Apache-2.0
// Tests of the classifier_training task: a short real run, its file, and the one-line YAML.
#include "classifier_training_task.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/io/safetensors.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/run/experiment.h>
#include <difflab/run/task.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "classifier_accuracy_metric.h"
#include "feature_network.h"
#include "metrics_test_plugins.h"

using namespace difflab;
using namespace difflab::plugins;
namespace fs = std::filesystem;

namespace {

/// A small classifier trained briefly (about 2 s) on 512 Fashion-MNIST images (the test split
/// limited alike).
std::string tiny_experiment(bool time_conditioned = false, const std::string& data = "") {
    return "name: tiny_classifier\nseed: 3\n"
           "data: " +
           (data.empty() ? std::string("{type: fashion_mnist, split: train, limit: 512}") : data) +
           "\nnetwork: {type: classifier, time_conditioned: " + (time_conditioned ? "true" : "false") +
           ", channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4}\n"
           "task: {type: classifier_training}\n"
           "train: {steps: 100, batch_size: 32, lr: 5.0e-3, warmup: 5, schedule: constant, ema: 0, log_every: 20}\n";
}

/// Images without labels, to check the task's refusal.
class unlabelled_images final : public dataset {
public:
    struct options {};
    static param_spec<options> params() { return param_spec<options>{"Blank 8x8 images without labels."}; }
    unlabelled_images(const options&, build_context&) {}
    std::int64_t size() const override { return 16; }
    shape_t example_shape() const override { return {1, 8, 8}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override {
        return {tensor::zeros({static_cast<std::int64_t>(indices.size()), 1, 8, 8}), tensor()};
    }
};

/// The build's plugins plus the test dataset above.
const registry& components_with_test_data() {
    static registry loaded;
    static const bool once = [] {
        plugin_loader(loaded).load_all(plugin_loader::default_search_path());
        loaded.set_current_plugin("metrics_tests", "0", "");
        loaded.add<unlabelled_images>("unlabelled_images");
        return true;
    }();
    (void)once;
    return loaded;
}

/// Resolves and runs an experiment in a fresh directory; returns that directory.
fs::path run(const std::string& yaml, const std::string& dir_name) {
    const registry& components = components_with_test_data();
    const config_node resolved = resolve_experiment(parse_yaml(yaml, "tiny.yaml"), components);
    // Per process: test runs of several build trees may share /tmp.
    const fs::path dir = fs::temp_directory_path() / (dir_name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    run_context ctx(components, resolved, dir, 3);
    ctx.build<task>("task")->run(ctx);
    return dir;
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST_CASE("the flow YAML of the network metadata reads back as the same tree") {
    const config_node node = parse_yaml(
        "type: classifier\nchannel_mult: [1, 2, 2]\nempty: []\nnone: ~\nratio: 0.5\nflag: true\n"
        "quoted: \"1\"\ntext: 'a, b: {c} # d'\nnested: {k: [x, y], m: {n: -1}}\n",
        "t.yaml");
    const std::string line = to_flow_yaml(node);
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.rfind("{type: classifier, channel_mult: [1, 2, 2], empty: [], ", 0) == 0);
    const config_node back = parse_yaml(line, "line");
    CHECK(to_yaml(back) == to_yaml(node));
    CHECK(back.find("quoted")->quoted());
    CHECK(back.find("text")->text() == "a, b: {c} # d");
}

TEST_CASE("classifier_training trains, measures the test accuracy and writes a loadable feature network") {
    const fs::path dir = run(tiny_experiment(), "difflab_metrics_classifier_training");
    const fs::path file = dir / "classifier.safetensors";
    REQUIRE(fs::exists(file));
    const safetensors_file content = read_safetensors(file);
    CHECK(content.metadata.at("experiment") == "tiny_classifier");
    CHECK(content.metadata.at("train_steps") == "100");
    const double recorded = std::stod(content.metadata.at("test_accuracy"));

    // The metadata is the resolved network node: resolving it again changes nothing.
    const registry& components = metrics_testing::loaded_plugins();
    const config_node network = parse_yaml(content.metadata.at("network"), "metadata");
    CHECK(content.metadata.at("network").find('\n') == std::string::npos);
    CHECK(to_yaml(components.resolve("network", network, parse_context(&components))) == to_yaml(network));
    CHECK(network.find("channels")->text() == "8");

    // The file loads as a feature network, and its accuracy on the same 512 test images is the
    // recorded one (up to a prediction flipped by a different batch size's rounding).
    feature_network features(file, components, 100);
    CHECK(features.sha256() == file_sha256(file));
    CHECK(features.metadata().at("experiment") == "tiny_classifier");
    const config_node test_data = parse_yaml("{type: fashion_mnist, split: test, limit: 512}", "t.yaml");
    build_context builder(components, 0);
    const auto made = builder.create("dataset", components.resolve("dataset", test_data, parse_context(&components)));
    const auto& test = static_cast<const dataset&>(*made);
    std::vector<std::int64_t> all(512);
    for (std::int64_t i = 0; i < 512; ++i) all[static_cast<std::size_t>(i)] = i;
    const example_batch batch = test.get(all);
    const double measured = classification_accuracy(features.logits(batch.x), batch.labels);
    CHECK(std::abs(measured - recorded) <= 2.5 / 512);
    // 100 steps on 512 images beat chance (0.1) clearly (0.45 measured).
    CHECK(recorded > 0.3);
    const tensor f = features.features(batch.x.slice(0, 0, 7));
    CHECK(f.shape() == shape_t{7, 16});

    CHECK(read_text(dir / "report.md").find("Test accuracy on split `test`") != std::string::npos);
    const std::string log = read_text(dir / "log.jsonl");
    CHECK(std::count(log.begin(), log.end(), '\n') == 5);  // steps 20, 40, ..., 100
    CHECK(log.find("\"batch_accuracy\"") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("classifier_training refuses a time-conditioned classifier and data without labels") {
    CHECK_THROWS_AS(run(tiny_experiment(true), "difflab_metrics_classifier_training_bad"), config_error);
    CHECK_THROWS_AS(run(tiny_experiment(false, "{type: unlabelled_images}"), "difflab_metrics_classifier_training_bad"),
                    config_error);
    fs::remove_all(fs::temp_directory_path() /
                   ("difflab_metrics_classifier_training_bad_" + std::to_string(::getpid())));
}

TEST_CASE("noisy classifier_training needs a process and a time-conditioned classifier, and says so") {
    const auto message = [](const std::string& yaml) {
        try {
            run(yaml, "difflab_metrics_classifier_training_noisy_bad");
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    std::string noisy = tiny_experiment(true);
    noisy.replace(noisy.find("{type: classifier_training}"), 27, "{type: classifier_training, noisy: true}");
    CHECK(message(noisy).find("add a `process:` section") != std::string::npos);
    std::string clean_network = tiny_experiment(false) + "process: {type: ddpm, steps: 100}\n";
    clean_network.replace(clean_network.find("{type: classifier_training}"), 27,
                          "{type: classifier_training, noisy: true}");
    CHECK(message(clean_network).find("set network.time_conditioned: true") != std::string::npos);
    CHECK(message(tiny_experiment(true)).find("or task.noisy: true for a noise-aware classifier") != std::string::npos);
    fs::remove_all(fs::temp_directory_path() /
                   ("difflab_metrics_classifier_training_noisy_bad_" + std::to_string(::getpid())));
}

TEST_CASE("a noisy classifier learns x_t: accurate near the data, near chance where x_t is almost all noise") {
    std::string yaml = tiny_experiment(true) + "process: {type: ddpm, schedule: linear, steps: 1000}\n";
    yaml.replace(yaml.find("{type: classifier_training}"), 27, "{type: classifier_training, noisy: true}");
    const fs::path dir = run(yaml, "difflab_metrics_noisy_classifier_training");
    const safetensors_file content = read_safetensors(dir / "classifier.safetensors");
    // Five times from t_min = 0.001 to three quarters of the way to 1.
    const std::string by_time = content.metadata.at("test_accuracy_by_time");
    CHECK(by_time.rfind("t=0.001: ", 0) == 0);
    CHECK(by_time.find(", t=0.75025: ") != std::string::npos);
    const double near_data = std::stod(content.metadata.at("test_accuracy"));
    const double at_noise = std::stod(by_time.substr(by_time.find(", t=0.75025: ") + 13));
    // At t = 0.75 the linear schedule keeps alpha = 0.06 of the image under unit noise.
    CHECK(near_data > 0.2);  // measured 0.248, and 0.123 at t = 0.75
    CHECK(at_noise < near_data - 0.08);
    CHECK(read_text(dir / "report.md").find("| 0.75025 |") != std::string::npos);
    fs::remove_all(dir);
}
