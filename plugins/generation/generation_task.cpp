// SPDX-License-Identifier: Apache-2.0
// The 'generation' task.
#include "generation_task.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/classifier_free_guidance.h>
#include <difflab/diffusion/classifier_guidance.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/diffusion/network_file.h>
#include <difflab/run/task_flow.h>
#include <fmt/format.h>

#include <memory>
#include <vector>

namespace difflab::plugins {

namespace {

/// Labels 0, 1, ..., num_classes - 1, 0, 1, ... for samples first .. first + n - 1.
tensor cycling_labels(std::int64_t first, std::int64_t n, std::int64_t num_classes) {
    std::vector<float> values(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        values[static_cast<std::size_t>(i)] = static_cast<float>((first + i) % num_classes);
    return tensor::from_vector({n}, values);
}

}  // namespace

param_spec<generation_task::options> generation_task::params() {
    param_spec<options> spec{"Unconditional or class-conditional generation: train the network, then sample."};
    spec.add(&options::class_conditional, "class_conditional", "Condition the network on the dataset's labels.");
    spec.add(&options::num_classes, "num_classes", "Classes of a class-conditional network (its null class is this).",
             at_least<std::int64_t>(1));
    spec.add(&options::label_dropout, "label_dropout",
             "Probability of training on the null class (for classifier-free guidance).", closed_range(0.0, 1.0));
    spec.section(&options::guidance, "guidance",
                 "The guidance of class-conditional sampling: classifier-free guidance of a class_conditional network, "
                 "or classifier guidance by `classifier`; scale 0 is the unconditional model, 1 the conditional one "
                 "(Ho & Salimans' w = scale - 1).",
                 guidance_schedule::params("guidance"));
    spec.add(&options::classifier, "classifier",
             "A noise-aware classifier file (classifier.safetensors of a classifier_training run with noisy: true) "
             "that guides an unconditional network towards the sampled classes (classifier guidance); empty: none.");
    return spec;
}

generation_task::generation_task(const options& opts, build_context&) : opts_(opts) {
    if (opts_.class_conditional && !opts_.classifier.empty())
        throw config_error(
            "generation guides a class_conditional network without a classifier (classifier-free guidance) and an "
            "unconditional one with a classifier; remove `classifier` or set class_conditional: false");
}

void generation_task::run(run_context& ctx) {
    task_flow flow(ctx, "generation");
    const bool conditional = opts_.class_conditional;
    // Read before training, so that a bad file costs no training time.
    network_file classifier;
    if (!opts_.classifier.empty())
        classifier = read_network_file(
            opts_.classifier, ctx.builder().components(),
            "train one with a classifier_training run with noisy: true (experiments/fmnist_noisy_classifier.yaml) "
            "and name its classifier.safetensors in task.classifier");
    if (conditional) {
        flow.train([&](const example_batch& batch, std::int64_t, std::int64_t first) {
            return condition::from_labels(
                drop_labels(batch.labels, opts_.label_dropout, opts_.num_classes, ctx.seed(), first));
        });
    } else {
        flow.train();
    }
    flow.load_weights();
    const double sigma_data = flow.train_options().sigma_data;
    // Classifier guidance: the classifier's grad log p(y | x_t), and the unguided denoiser of each
    // batch, which the guidance wrapper refers to and which must outlive the batch's sampling.
    std::unique_ptr<network_class_log_likelihood> class_gradient;
    if (classifier.net) class_gradient = std::make_unique<network_class_log_likelihood>(*classifier.net);
    std::vector<std::unique_ptr<denoiser>> unguided;
    flow.draw_samples(
        [&](std::int64_t first, std::int64_t n) -> task_flow::batch_model {
            std::unique_ptr<denoiser> plain = flow.network_model();
            if (class_gradient) {
                unguided.push_back(std::move(plain));
                return {
                    std::make_unique<classifier_guidance>(*unguided.back(), *class_gradient,
                                                          cycling_labels(first, n, opts_.num_classes), opts_.guidance),
                    1};
            }
            if (!conditional) return {std::move(plain), 1};
            auto d = std::make_unique<guided_denoiser>(
                flow.net(), flow.diffusion(), flow.kind(), sigma_data,
                condition::from_labels(cycling_labels(first, n, opts_.num_classes)),
                condition::from_labels(tensor::full({n}, static_cast<float>(opts_.num_classes))), opts_.guidance);
            d->set_clip_denoised(flow.sample_options().clip_denoised);
            const std::int64_t passes = d->passes();
            return {std::move(d), passes};
        },
        guided() ? fmt::format(", classes cycling 0..{}, {} guidance scale {:g}", opts_.num_classes - 1,
                               conditional ? "classifier-free" : "classifier", opts_.guidance.scale)
                 : "");
    // A likelihood is of the unconditional model only.
    const network_denoiser model(flow.net(), flow.diffusion(), flow.kind(), sigma_data);
    flow.evaluate(guided() ? cycling_labels(0, flow.evaluation_count(), opts_.num_classes) : tensor(),
                  conditional ? nullptr : &model);
    flow.write_report();
}

}  // namespace difflab::plugins
