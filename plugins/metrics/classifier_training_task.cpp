// SPDX-License-Identifier: Apache-2.0
// The 'classifier_training' task: cross-entropy training, test accuracy, the feature-network file.
#include "classifier_training_task.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/base/progress.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/network.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/safetensors.h>
#include <difflab/plugin/config_node.h>
#include <difflab/run/training.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "classifier_accuracy_metric.h"
#include "feature_network.h"

namespace difflab::plugins {

namespace fs = std::filesystem;

param_spec<classifier_training_task::options> classifier_training_task::params() {
    param_spec<options> spec{
        "Train the experiment's classifier network on its labelled data (cross-entropy, Adam), measure the test "
        "accuracy and write classifier.safetensors, the feature network of fid, precision_recall, "
        "inception_score and classifier_accuracy."};
    spec.add(&options::steps, "steps", "Optimizer steps.", at_least<std::int64_t>(1));
    spec.add(&options::batch_size, "batch_size", "Examples per step.", at_least<std::int64_t>(1));
    spec.add(&options::lr, "lr", "Adam learning rate (after warm-up).", greater_than(0.0));
    spec.add(&options::warmup, "warmup", "Steps of linear learning-rate warm-up.", at_least<std::int64_t>(0));
    spec.add(&options::schedule, "schedule",
             "Learning rate after the warm-up: constant, or cosine (decays to 0 at the last step).",
             one_of({"constant", "cosine"}));
    spec.add(&options::grad_clip, "grad_clip", "Clip the gradient norm to this; 0 disables.", at_least(0.0));
    spec.add(&options::test_split, "test_split",
             "The `split` of the data section that the accuracy is measured on (the dataset must have a `split` "
             "option).",
             non_empty());
    spec.add(&options::log_every, "log_every", "Steps between lines of log.jsonl.", at_least<std::int64_t>(1));
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
        throw config_error(fmt::format("classifier_training: dataset '{}' has no `split` option to select "
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
    const std::string name = ctx.experiment().find("name")->text();
    const std::uint64_t seed = ctx.seed();

    // Training: the diffusion trainer's optimizer, warm-up and clipping on a cross-entropy loss.
    net->train();
    optim::adam_options adam;
    adam.lr = static_cast<float>(opts_.lr);
    optim::adam optimizer(net->parameters(), adam);
    optim::lr_schedule schedule;
    schedule.type = opts_.schedule == "cosine" && opts_.steps > opts_.warmup ? optim::lr_schedule::kind::cosine
                                                                             : optim::lr_schedule::kind::constant;
    schedule.base_lr = static_cast<float>(opts_.lr);
    schedule.warmup_steps = opts_.warmup;
    schedule.total_steps = opts_.steps;
    std::vector<std::int64_t> order;  // the current epoch's permutation
    std::int64_t order_epoch = -1;
    std::ofstream log(ctx.run_dir() / "log.jsonl");
    progress_bar bar("training", opts_.steps);
    const interrupt_guard interrupt;
    const auto start = std::chrono::steady_clock::now();
    double last_loss = 0;
    for (std::int64_t step = 0; step < opts_.steps; ++step) {
        const std::int64_t first = step * opts_.batch_size;  // position in the data stream
        std::vector<std::int64_t> indices(static_cast<std::size_t>(opts_.batch_size));
        for (std::int64_t i = 0; i < opts_.batch_size; ++i) {
            const std::int64_t position = first + i, epoch = position / data->size();
            if (epoch != order_epoch) {
                order =
                    philox_stream(seed, random_purpose("classifier_training/order"), static_cast<std::uint64_t>(epoch))
                        .permutation(data->size());
                order_epoch = epoch;
            }
            indices[static_cast<std::size_t>(i)] = order[static_cast<std::size_t>(position % data->size())];
        }
        const example_batch batch = data->get(indices);
        const float lr = schedule.at(step);
        optimizer.set_learning_rate(lr);
        optimizer.zero_grad();
        nn::set_dropout_stream(*net, static_cast<std::uint64_t>(step), static_cast<std::uint64_t>(first));
        // A clean-image classifier ignores the noise input: it gets none, nor labels.
        const tensor logits = net->forward(batch.x, tensor(), tensor());
        if (logits.dim() != 2 || logits.size(0) != opts_.batch_size)
            throw config_error(fmt::format("classifier_training: network '{}' gave {} for a batch of {}; it must "
                                            "be a classifier giving logits [N, num_classes]",
                                           network_node.find("type")->text(), shape_text(logits.shape()),
                                           opts_.batch_size));
        const tensor loss = cross_entropy(logits, batch.labels);
        const double value = loss.item();
        if (!std::isfinite(value))
            throw error(fmt::format("classifier_training: the loss is {} at step {}; lower task.lr",
                                    std::isnan(value) ? "NaN" : "infinite", step + 1));
        loss.backward();
        const double grad_norm =
            opts_.grad_clip > 0 ? optim::clip_grad_norm(net->parameters(), static_cast<float>(opts_.grad_clip)) : 0.0;
        optimizer.step();
        last_loss = value;
        const std::int64_t done = step + 1;
        if (done % opts_.log_every == 0 || done == opts_.steps) {
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double accuracy =
                static_cast<double>(correct_classifications(logits.detach(), batch.labels)) / opts_.batch_size;
            log << nlohmann::ordered_json{{"step", done}, {"loss", value},          {"batch_accuracy", accuracy},
                                          {"lr", lr},     {"grad_norm", grad_norm}, {"seconds", seconds}}
                       .dump()
                << "\n"
                << std::flush;
        }
        bar.update(done, fmt::format("loss {:.4f}", value));
        if (interrupt.flag().load())
            throw error(fmt::format("classifier_training: interrupted at step {}; nothing was saved", done));
    }
    bar.finish();
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log_info("classifier_training: {} steps in {:.1f} s, last loss {:.4f}", opts_.steps, train_seconds, last_loss);

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
            right += correct_classifications(net->forward(batch.x, tensor(), tensor()), batch.labels);
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
    out.metadata["train_steps"] = std::to_string(opts_.steps);
    out.metadata["experiment"] = name;
    const fs::path weights = ctx.run_dir() / "classifier.safetensors";
    write_safetensors(weights, out);  // temp file, fsync, rename (atomic_file_writer)
    const std::string sha256 = file_sha256(weights);

    std::string report = fmt::format("# {}\n\n", name);
    report += fmt::format(
        "Trained a `{}` network ({} parameters) for {} steps at batch {} in {:.1f} s ({:.3f} s/step); last loss "
        "{:.4f}.\n\n",
        network_node.find("type")->text(), net->parameter_count(), opts_.steps, opts_.batch_size, train_seconds,
        train_seconds / static_cast<double>(opts_.steps), last_loss);
    report += fmt::format("Test accuracy on split `{}`: **{:.2f}%** ({} of {} images).\n\n", opts_.test_split,
                          100 * accuracy, right, test->size());
    report += fmt::format("Feature network: `classifier.safetensors` ({} bytes, SHA-256 `{}`).\n",
                          fs::file_size(weights), sha256);
    write_file_atomically(ctx.run_dir() / "report.md", report);
    log_info("classifier_training: wrote {} (SHA-256 {})", weights.string(), sha256);
}

}  // namespace difflab::plugins
