// SPDX-License-Identifier: Apache-2.0
// The 'classifier_training' task: cross-entropy training, test accuracy, the feature-network file.
#include "classifier_training_task.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/network_file.h>
#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/process.h>
#include <difflab/io/atomic_file.h>
#include <difflab/plugin/config_node.h>
#include <difflab/run/task_flow.h>
#include <difflab/run/training.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <array>
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
    spec.add(&options::noisy, "noisy",
             "Train on x_t of the experiment's `process` at random t, with t as the network's noise input: the "
             "noise-aware classifier of classifier guidance (Dhariwal & Nichol 2021). Needs `process` and "
             "network.time_conditioned: true.");
    return spec;
}

classifier_training_task::classifier_training_task(const options& opts, build_context&) : opts_(opts) {}

namespace {

/// A batch as a noise-aware classifier sees it: x_t = alpha(t_i) x0 + sigma(t_i) eps at the given
/// times, eps keyed by (seed, purpose + "/noise", position of example i), and the times as the
/// network's noise input.
struct noisy_batch {
    tensor x;
    tensor times;
};
noisy_batch noised(const process& p, const tensor& x0, std::uint64_t seed, std::string_view purpose, std::int64_t first,
                   const std::vector<double>& times) {
    const std::int64_t n = x0.size(0);
    std::vector<float> alpha(static_cast<std::size_t>(n)), sigma(alpha.size()), t(alpha.size());
    for (std::size_t i = 0; i < alpha.size(); ++i) {
        alpha[i] = static_cast<float>(p.alpha(times[i]));
        sigma[i] = static_cast<float>(p.sigma(times[i]));
        t[i] = static_cast<float>(times[i]);
    }
    shape_t per_example(static_cast<std::size_t>(x0.dim()), 1);
    per_example[0] = n;
    const tensor eps = draw_noise(nullptr, x0.shape(), seed, random_purpose(std::string(purpose) + "/noise"),
                                  static_cast<std::uint64_t>(first), 0);
    return {x0 * tensor::from_vector(per_example, alpha) + eps * tensor::from_vector(per_example, sigma),
            tensor::from_vector({n}, t)};
}

/// Times from the process's training distribution, one per example, keyed by its position.
std::vector<double> training_times(const process& p, std::uint64_t seed, std::int64_t first, std::int64_t n) {
    std::vector<double> times(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        philox_stream stream(seed, random_purpose("classifier_training/time"), static_cast<std::uint64_t>(first + i));
        float u = 0;
        stream.uniform(&u, 1);
        times[static_cast<std::size_t>(i)] = p.training_time(u);
    }
    return times;
}

}  // namespace

void classifier_training_task::run(run_context& ctx) {
    const auto data = ctx.build<dataset>("data");
    const auto net = ctx.build<network>("network");
    if (!data || !net)
        throw config_error("task 'classifier_training' needs `data` (with labels) and `network` (a classifier)");
    const config_node& network_node = *ctx.experiment().find("network");
    const config_node* time_node = network_node.find("time_conditioned");
    const bool time_conditioned = time_node && time_node->is_scalar() && time_node->text() == "true";
    std::unique_ptr<process> diffusion;
    if (opts_.noisy) {
        diffusion = ctx.build<process>("process");
        if (!diffusion)
            throw config_error(
                "classifier_training with noisy: true trains on x_t of a process; add a `process:` section (the one "
                "of the model it will guide)");
        if (!time_conditioned)
            throw config_error(
                "classifier_training with noisy: true gives the network the time t; set network.time_conditioned: "
                "true");
    } else if (time_conditioned) {
        throw config_error(
            "classifier_training trains a classifier of clean images; set network.time_conditioned: false, or "
            "task.noisy: true for a noise-aware classifier");
    }
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
        tensor logits;
        if (diffusion) {
            const noisy_batch in = noised(*diffusion, batch.x, ctx.seed(), "classifier_training", step.first_position,
                                          training_times(*diffusion, ctx.seed(), step.first_position, batch.x.size(0)));
            logits = net->forward(in.x, in.times, {});
        } else {
            logits = net->forward(batch.x, tensor(), {});
        }
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

    // Test accuracy: of clean images, or of a noisy classifier at a few times across [t_min, t_max]
    // (noise keyed by test image).
    net->eval();
    const auto correct_at = [&](double t) {
        std::int64_t right = 0;
        const no_grad_guard no_grad;
        constexpr std::int64_t eval_batch = 500;
        for (std::int64_t begin = 0; begin < test->size(); begin += eval_batch) {
            std::vector<std::int64_t> indices;
            for (std::int64_t i = begin; i < std::min(test->size(), begin + eval_batch); ++i) indices.push_back(i);
            const example_batch batch = test->get(indices);
            if (!diffusion) {
                right += correct_classifications(net->forward(batch.x, tensor(), {}), batch.labels);
                continue;
            }
            const noisy_batch in = noised(*diffusion, batch.x, ctx.seed(), "classifier_training/test", begin,
                                          std::vector<double>(indices.size(), t));
            right += correct_classifications(net->forward(in.x, in.times, {}), batch.labels);
        }
        return right;
    };
    std::vector<double> times{0.0};
    if (diffusion) {
        times.clear();
        for (const double f : std::array<double, 5>{0.0, 0.1, 0.25, 0.5, 0.75})
            times.push_back(diffusion->t_min() + f * (diffusion->t_max() - diffusion->t_min()));
    }
    std::vector<std::int64_t> correct;
    std::vector<double> accuracies;
    for (const double t : times) {
        correct.push_back(correct_at(t));
        accuracies.push_back(static_cast<double>(correct.back()) / static_cast<double>(test->size()));
    }
    const std::int64_t right = correct.front();
    const double accuracy = accuracies.front();
    log_info("classifier_training: test accuracy {:.4f} on {} images of split '{}'{}", accuracy, test->size(),
             opts_.test_split, diffusion ? fmt::format(" at t = {:g}", times.front()) : "");

    // The network file: weights under their module names, configuration in the metadata.
    std::map<std::string, std::string> metadata{{"test_accuracy", fmt::format("{:.4f}", accuracy)},
                                                {"train_steps", std::to_string(train.steps)},
                                                {"experiment", ctx.name()}};
    if (diffusion) {
        std::string by_time;
        for (std::size_t i = 0; i < times.size(); ++i)
            by_time += fmt::format("{}t={:g}: {:.4f}", i ? ", " : "", times[i], accuracies[i]);
        metadata["test_accuracy_by_time"] = by_time;
    }
    const fs::path weights = ctx.run_dir() / "classifier.safetensors";
    write_network_file(weights, *net, network_node, metadata);
    const std::string sha256 = file_sha256(weights);

    std::string report = fmt::format("# {}\n\n", ctx.name());
    report += fmt::format(
        "Trained a `{}` network ({} parameters) for {} steps at batch {} ({} this session, {:.1f} s, {:.3f} s/step); "
        "last loss {:.4f}. Measured with the {} weights of step {}.\n\n",
        network_node.find("type")->text(), net->parameter_count(), train.steps, train.batch_size, trained.steps_done,
        train_seconds, trained.steps_done ? train_seconds / static_cast<double>(trained.steps_done) : 0.0,
        trained.last_loss, weights_used.ema ? "EMA" : "trained", weights_used.step);
    report +=
        fmt::format("Test accuracy on split `{}`: **{:.2f}%** ({} of {} images){}.\n\n", opts_.test_split,
                    100 * accuracy, right, test->size(), diffusion ? fmt::format(" at t = {:g}", times.front()) : "");
    if (diffusion) {
        report += "A noise-aware classifier: accuracy on x_t of the test images.\n\n| t | accuracy |\n|---:|---:|\n";
        for (std::size_t i = 0; i < times.size(); ++i)
            report += fmt::format("| {:g} | {:.2f}% |\n", times[i], 100 * accuracies[i]);
        report += "\n";
    }
    report += fmt::format("Network file: `classifier.safetensors` ({} bytes, SHA-256 `{}`).\n", fs::file_size(weights),
                          sha256);
    write_file_atomically(ctx.run_dir() / "report.md", report);
    log_info("classifier_training: wrote {} (SHA-256 {})", weights.string(), sha256);
}

}  // namespace difflab::plugins
