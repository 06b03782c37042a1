// SPDX-License-Identifier: Apache-2.0
// The 'classifier_training' task: cross-entropy training, test accuracy, the feature-network file.
#include "classifier_training_task.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/network.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/safetensors.h>
#include <difflab/plugin/config_node.h>
#include <difflab/run/task_flow.h>
#include <difflab/run/training.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <vector>

#include "classifier_accuracy_metric.h"
#include "feature_network.h"

namespace difflab::plugins {

namespace fs = std::filesystem;

param_spec<classifier_training_task::options> classifier_training_task::params() {
    param_spec<options> spec{
        "Train the experiment's classifier network on its labelled data (cross-entropy, in the `train:` section's "
        "training loop), measure the test accuracy and write classifier.safetensors, the feature network of fid, "
        "precision_recall, inception_score and classifier_accuracy."};
    spec.add(&options::test_split, "test_split",
             "The `split` of the data section that the accuracy is measured on (the dataset must have a `split` "
             "option).",
             non_empty());
    return spec;
}

classifier_training_task::classifier_training_task(const options& opts, build_context&) : opts_(opts) {}

void classifier_training_task::run(run_context& ctx) {
    const auto data = ctx.build<dataset>("data");
    const auto net = ctx.build<network>("network");
    if (!data || !net)
        throw config_error("task 'classifier_training' needs `data` (with labels) and `network` (a classifier)");
    const config_node& network_node = *ctx.experiment().find("network");
    if (const config_node* t = network_node.find("time_conditioned"); t && t->is_scalar() && t->text() == "true")
        throw config_error(
            "classifier_training trains a classifier of clean images; set network.time_conditioned: false");
    if (data->size() < 1) throw config_error("classifier_training: the dataset is empty");
    if (!data->get({0}).labels.defined())
        throw config_error("classifier_training needs a dataset with class labels (fashion_mnist, cifar10, ...)");
    // The test data: the same dataset with `split` replaced, built now so that a bad split fails early.
    config_node test_node = *ctx.experiment().find("data");
    if (!test_node.find("split"))
        throw config_error(
            fmt::format("classifier_training: dataset '{}' has no `split` option to select "
                        "test_split '{}' with; use a dataset with train and test splits",
                        test_node.find("type")->text(), opts_.test_split));
    test_node.set("split", config_node::scalar(opts_.test_split));
    std::unique_ptr<dataset> test;
    try {
        test.reset(static_cast<dataset*>(ctx.builder().create("dataset", test_node).release()));
    } catch (const config_error&) {
        // The dataset's message has no place to point at: name the option that chose the split.
        rethrow_with_context(fmt::format("task.test_split '{}': ", opts_.test_split));
    }
    const training_options train = ctx.options<training_options>("train");
    if (train.steps < 1) throw config_error("classifier_training trains the classifier: set train.steps (at least 1)");

    // Training: the loop of diffusion models on a cross-entropy loss.
    const auto objective = [&](const example_batch& batch, training_step& step) {
        // A clean-image classifier ignores the noise input: it gets none, nor labels.
        const tensor logits = net->forward(batch.x, tensor(), {});
        const std::int64_t n = batch.x.size(0);
        if (logits.dim() != 2 || logits.size(0) != n)
            throw config_error(
                fmt::format("classifier_training: network '{}' gave {} for a batch of {}; it must "
                            "be a classifier giving logits [N, num_classes]",
                            network_node.find("type")->text(), shape_text(logits.shape()), n));
        if (step.logged)
            step.log_values.emplace_back(
                "batch_accuracy",
                static_cast<double>(correct_classifications(logits.detach(), batch.labels)) / static_cast<double>(n));
        return cross_entropy(logits, batch.labels);
    };
    training_setup setup = run_training_setup(ctx, *net, *data, train);
    setup.order_purpose = "classifier_training/order";  // the data order models/fmnist_classifier was trained in
    const interrupt_guard interrupt;
    const training_result trained = train_network(setup, objective, &interrupt.flag());
    const double train_seconds = trained.seconds;
    log_info("classifier_training: {} steps in {:.1f} s, last loss {:.4f}", trained.steps_done, train_seconds,
             trained.last_loss);
    const checkpoint_weights weights_used = load_latest_weights(setup.checkpoint_dir, *net, true);

    // Test accuracy.
    net->eval();
    std::int64_t right = 0;
    {
        const no_grad_guard no_grad;
        constexpr std::int64_t eval_batch = 500;
        for (std::int64_t begin = 0; begin < test->size(); begin += eval_batch) {
            std::vector<std::int64_t> indices;
            for (std::int64_t i = begin; i < std::min(test->size(), begin + eval_batch); ++i) indices.push_back(i);
            const example_batch batch = test->get(indices);
            right += correct_classifications(net->forward(batch.x, tensor(), {}), batch.labels);
        }
    }
    const double accuracy = static_cast<double>(right) / static_cast<double>(test->size());
    log_info("classifier_training: test accuracy {:.4f} on {} images of split '{}'", accuracy, test->size(),
             opts_.test_split);

    // The feature-network file: weights under their module names, configuration in the metadata.
    safetensors_file out;
    for (const auto& [key, value] : net->state_dict()) out.add(to_safetensors(key, value));
    out.metadata["network"] = to_flow_yaml(network_node);  // parse_yaml reads it back
    out.metadata["test_accuracy"] = fmt::format("{:.4f}", accuracy);
    out.metadata["train_steps"] = std::to_string(train.steps);
    out.metadata["experiment"] = ctx.name();
    const fs::path weights = ctx.run_dir() / "classifier.safetensors";
    write_safetensors(weights, out);  // temp file, fsync, rename (atomic_file_writer)
    const std::string sha256 = file_sha256(weights);

    std::string report = fmt::format("# {}\n\n", ctx.name());
    report += fmt::format(
        "Trained a `{}` network ({} parameters) for {} steps at batch {} ({} this session, {:.1f} s, {:.3f} s/step); "
        "last loss {:.4f}. Measured with the {} weights of step {}.\n\n",
        network_node.find("type")->text(), net->parameter_count(), train.steps, train.batch_size, trained.steps_done,
        train_seconds, trained.steps_done ? train_seconds / static_cast<double>(trained.steps_done) : 0.0,
        trained.last_loss, weights_used.ema ? "EMA" : "trained", weights_used.step);
    report += fmt::format("Test accuracy on split `{}`: **{:.2f}%** ({} of {} images).\n\n", opts_.test_split,
                          100 * accuracy, right, test->size());
    report += fmt::format("Feature network: `classifier.safetensors` ({} bytes, SHA-256 `{}`).\n",
                          fs::file_size(weights), sha256);
    write_file_atomically(ctx.run_dir() / "report.md", report);
    log_info("classifier_training: wrote {} (SHA-256 {})", weights.string(), sha256);
}

}  // namespace difflab::plugins
