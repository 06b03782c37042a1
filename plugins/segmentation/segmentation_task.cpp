// SPDX-License-Identifier: Apache-2.0
// The 'segmentation' task.
#include "segmentation_task.h"

#include <difflab/base/error.h>
#include <difflab/io/image_io.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn_ops.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "label_palette.h"
#include "pixel_classifier.h"
#include "pixel_features.h"
#include "pixel_inputs.h"
#include "scene_scoring.h"

namespace difflab::plugins {

namespace {

const std::vector<std::string> methods{"features", "random_features", "pixels", "unet"};

/// The class logits [N, K, H, W] of the run's network applied to images at noise input 0.
tensor logits_of(network& net, const tensor& images) {
    return net.forward(images, tensor::zeros({images.size(0)}), condition{});
}

/// A per-pixel map [N, 1, H, W] from values in pixel_rows order.
tensor as_maps(const tensor& rows, const shape_t& image_shape) {
    const std::int64_t n = image_shape[0], height = image_shape[2], width = image_shape[3];
    return rows.reshape({n, 1, height, width});
}

}  // namespace

param_spec<segmentation_task::options> segmentation_task::params() {
    param_spec<options> spec{
        "Label-efficient semantic segmentation (Baranchuk et al. 2022): a pixel MLP ensemble on diffusion features, "
        "and the controls of their comparison (random weights, raw pixels, a supervised U-Net)."};
    spec.add(&options::method, "method",
             "features (the trained network's activations), random_features (the network at initialization), pixels "
             "(value and coordinates), unet (the network trained here with cross-entropy).",
             one_of(methods));
    spec.add(&options::test, "test",
             "The scenes segmented and scored (a data set with label maps, e.g. fashion_scenes with split: test).");
    spec.add(&options::classes, "classes",
             "Class ids in the label maps (fashion_scenes: 11, background and 10 garments).",
             at_least<std::int64_t>(2));
    spec.add(&options::times, "times",
             "Times t of x_t the features are taken at (Baranchuk et al.: steps 50, 150, 250 of 1000).");
    spec.add(&options::taps, "taps", "The network's activations read (network tap names, e.g. decoder.2).");
    spec.add(&options::members, "members", "Pixel MLPs in the ensemble.", at_least<std::int64_t>(1));
    spec.add(&options::batch_size, "batch_size", "Pixels per training batch of each MLP.", at_least<std::int64_t>(2));
    spec.add(&options::lr, "lr", "Adam learning rate of the MLPs.", greater_than(0.0));
    spec.add(&options::max_epochs, "max_epochs", "Most epochs over the labelled pixels per MLP.",
             at_least<std::int64_t>(1));
    spec.add(&options::patience, "patience",
             "An MLP stops once this many batches in a row (from its fifth epoch) did not lower its lowest loss.",
             at_least<std::int64_t>(0));
    spec.add(&options::min_region, "min_region",
             "A class covering fewer pixels than this in an image is left out of training there.",
             at_least<std::int64_t>(0));
    spec.add(&options::feature_batch, "feature_batch", "Images featurized at once (memory: F x H x W floats each).",
             at_least<std::int64_t>(1));
    return spec;
}

segmentation_task::segmentation_task(const options& opts, build_context&) : opts_(opts) {}

void segmentation_task::run(run_context& ctx) {
    task_flow flow(ctx, "segmentation");
    const std::string& method = opts_.method;
    network& net = flow.net();
    const std::int64_t classes = opts_.classes;
    if (method == "unet") {
        flow.train_objective([&](const example_batch& batch, training_step&) {
            return cross_entropy(pixel_rows(logits_of(net, batch.x)), pixel_rows(batch.paired).reshape({-1}));
        });
        flow.load_weights();
    } else if (method == "features") {
        flow.train();  // adopts train.init_from's network
        flow.load_weights();
    }

    const scene_batch labelled = load_scenes(flow.data(), flow.data().size(), "the run's data", "segmentation");
    const std::unique_ptr<dataset> test_data = ctx.builder().create(opts_.test);
    const std::int64_t count = flow.sample_count();
    const scene_batch test = load_scenes(*test_data, count, "task.test", "segmentation");
    const shape_t shape = test.x.shape();
    const std::int64_t plane = shape[2] * shape[3];

    // Per-pixel inputs of images, in batches so that memory stays F H W floats per image.
    const feature_taps taps{opts_.times, opts_.taps};
    const auto featurize = [&](const tensor& images) {
        std::vector<tensor> parts;
        for (std::int64_t first = 0; first < images.size(0); first += opts_.feature_batch) {
            const tensor batch = images.slice(0, first, std::min(images.size(0), first + opts_.feature_batch));
            parts.push_back(method == "pixels"
                                ? pixels_with_coordinates(batch)
                                : pixel_features(net, flow.diffusion(), flow.kind(), flow.train_options().sigma_data,
                                                 batch, taps, ctx.seed(), flow.noise_source()));
        }
        return concat(parts, 0);
    };

    tensor predicted, uncertainty;  // [T, 1, H, W]
    std::int64_t channels = 0, trained = labelled.x.size(0) * plane;
    std::string how;
    if (method == "unet") {
        const no_grad_guard no_grad;
        net.eval();
        std::vector<tensor> labels, entropies;
        for (std::int64_t first = 0; first < count; first += opts_.feature_batch) {
            const tensor batch = test.x.slice(0, first, std::min(count, first + opts_.feature_batch));
            const tensor p = softmax(pixel_rows(logits_of(net, batch)), 1).contiguous();
            labels.push_back(ensemble_vote({p}).labels);
            entropies.push_back(softmax_entropy(p));
        }
        predicted = as_maps(concat(labels, 0), shape);
        uncertainty = as_maps(concat(entropies, 0), shape);
        how = "the network trained here from scratch with pixel-wise cross-entropy; uncertainty: its softmax entropy";
    } else {
        const tensor features = featurize(labelled.x);
        channels = features.size(1);
        const std::vector<std::int64_t> kept = trained_pixels(labelled.paired, classes, opts_.min_region);
        trained = static_cast<std::int64_t>(kept.size());
        const tensor rows = tensor::from_vector({trained}, std::vector<float>(kept.begin(), kept.end()));
        pixel_ensemble ensemble(channels, classes,
                                {opts_.members, opts_.batch_size, opts_.lr, opts_.max_epochs, opts_.patience},
                                ctx.seed());
        const std::vector<std::int64_t> iterations = ensemble.fit(
            embedding(pixel_rows(features), rows), embedding(pixel_rows(labelled.paired), rows).reshape({trained}));
        std::vector<tensor> labels, scores;
        for (std::int64_t first = 0; first < count; first += opts_.feature_batch) {
            const pixel_prediction p = ensemble.predict(
                pixel_rows(featurize(test.x.slice(0, first, std::min(count, first + opts_.feature_batch)))));
            labels.push_back(p.labels);
            scores.push_back(p.uncertainty);
        }
        predicted = as_maps(concat(labels, 0), shape);
        uncertainty = as_maps(concat(scores, 0), shape);
        how = fmt::format(
            "{} pixel MLPs (batches taken: {}) on {} features per pixel ({}); {:.1f} MB for the labelled scenes; "
            "uncertainty: the ensemble's Jensen-Shannon score",
            opts_.members, fmt::join(iterations, ", "), channels,
            method == "pixels"
                ? "value, row, column"
                : fmt::format("taps {} at t = {}{}", fmt::join(opts_.taps, ", "), fmt::join(opts_.times, ", "),
                              method == "random_features" ? ", network at initialization" : ""),
            static_cast<double>(features.numel()) * 4.0 / 1e6);
    }

    // Uncertainty against mistakes, pixel by pixel; the image score of Baranchuk et al.
    const double auroc = wrong_pixel_auroc(ctx.builder(), uncertainty, predicted, test.paired);
    const std::vector<float> u = uncertainty.contiguous().to_vector();
    double image_score = 0;
    for (std::int64_t i = 0; i < count; ++i)
        image_score += image_uncertainty(std::vector<float>(u.begin() + i * plane, u.begin() + (i + 1) * plane));
    image_score /= static_cast<double>(count);

    flow.use_samples(predicted, fmt::format("the predicted label maps of {} test scenes: {}", count, how));
    const std::int64_t columns = std::min<std::int64_t>(flow.sample_options().columns, count);
    const auto shown = [&](const tensor& t) { return t.slice(0, 0, columns).contiguous(); };
    const float peak = std::max(*std::max_element(u.begin(), u.begin() + columns * plane), 1e-6f);
    write_comparison_figure(ctx.samples_dir() / "segmentation.png",
                            {gray_as_rgb(shown(test.x)), palette_images(shown(test.paired)),
                             palette_images(shown(predicted)), gray_as_rgb(shown(uncertainty) * (2.0f / peak) - 1.0f)},
                            columns);
    // The label maps themselves, as palette PNGs: pixel values are the class ids.
    write_indexed_png(ctx.samples_dir() / "labels.png", label_grid(predicted, flow.sample_options().columns));
    write_indexed_png(ctx.samples_dir() / "true_labels.png", label_grid(test.paired, flow.sample_options().columns));
    flow.report() += fmt::format(
        "\n{} labelled scenes ({} of their pixels trained on); rows: image, true labels, predicted labels, "
        "uncertainty (white: highest). The label maps of all test scenes are palette PNGs whose pixel values are "
        "class ids: labels.png (predicted) and true_labels.png.\n\n![segmentation]({}/segmentation.png)\n",
        labelled.x.size(0), trained, std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());
    flow.evaluate_paired(test.paired, tensor(), tensor(),
                         fmt::format("the true label maps of the test scenes 0..{}", flow.evaluation_count() - 1),
                         {{"uncertainty_auroc", auroc},
                          {"image_uncertainty", image_score},
                          {"feature_channels", static_cast<double>(channels)},
                          {"labelled_pixels", static_cast<double>(trained)}});
    flow.write_report();
}

}  // namespace difflab::plugins
