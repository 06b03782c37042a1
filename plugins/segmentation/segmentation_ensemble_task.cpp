// SPDX-License-Identifier: Apache-2.0
// The 'segmentation_ensemble' task.
#include "segmentation_ensemble_task.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/metric.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>

#include "label_palette.h"
#include "scene_scoring.h"

namespace difflab::plugins {

namespace {

/// Member k of every scene's ensemble, from samples ordered scene by scene: [scenes, 1, H, W].
tensor member(const tensor& samples, std::int64_t k, std::int64_t size) {
    std::vector<tensor> rows;
    for (std::int64_t s = 0; s < samples.size(0) / size; ++s)
        rows.push_back(samples.slice(0, s * size + k, s * size + k + 1));
    return concat(rows, 0);
}

/// 1 where `values` exceed `threshold`, else 0.
tensor above(const tensor& values, double threshold) {
    std::vector<float> out = values.contiguous().to_vector();
    for (float& v : out) v = v > threshold ? 1.0f : 0.0f;
    return tensor::from_vector(values.shape(), out);
}

}  // namespace

param_spec<segmentation_ensemble_task::options> segmentation_ensemble_task::params() {
    param_spec<options> spec{
        "Implicit segmentation ensembles (Wolleb et al. 2022): a diffusion model of the mask given the image, "
        "sampled several times per image; the mean thresholded, the standard deviation as uncertainty."};
    spec.add(&options::test, "test",
             "The scenes segmented (fashion_scenes with split: test and example: mask: x the mask, paired the "
             "image).");
    spec.add(&options::sizes, "sizes", "Ensemble sizes scored (each the first n members of the largest).");
    spec.add(&options::threshold, "threshold", "An ensemble predicts foreground where its mean exceeds this.",
             closed_range(0.0, 1.0));
    return spec;
}

segmentation_ensemble_task::segmentation_ensemble_task(const options& opts, build_context&) : opts_(opts) {
    if (opts_.sizes.empty() || *std::min_element(opts_.sizes.begin(), opts_.sizes.end()) < 1)
        throw config_error(
            "task 'segmentation_ensemble': sizes must list ensemble sizes of at least 1, e.g. [1, 3, 5, 10]");
}

void segmentation_ensemble_task::run(run_context& ctx) {
    task_flow flow(ctx, "segmentation_ensemble");
    flow.train([](const example_batch& batch, std::int64_t, std::int64_t) {
        condition c;
        c.channels = batch.paired;  // the image beside the noisy mask
        return c;
    });
    flow.load_weights();

    const std::int64_t largest = *std::max_element(opts_.sizes.begin(), opts_.sizes.end());
    const std::int64_t total = flow.sample_count();
    if (total % largest != 0)
        throw config_error(
            fmt::format("task 'segmentation_ensemble': sample.count {} is not a whole number of "
                        "ensembles of {}; set it to scenes x {}",
                        total, largest, largest));
    const std::int64_t scenes = total / largest;
    const std::unique_ptr<dataset> test_data = ctx.builder().create(opts_.test);
    const scene_batch test = load_scenes(*test_data, scenes, "task.test", "segmentation_ensemble");
    const std::int64_t channels = test.paired.size(1);
    // Each scene's image, once per member.
    std::vector<tensor> repeated;
    for (std::int64_t s = 0; s < scenes; ++s)
        for (std::int64_t k = 0; k < largest; ++k) repeated.push_back(test.paired.slice(0, s, s + 1));
    const tensor images = concat(repeated, 0).contiguous();

    const tensor& samples = flow.draw_samples(
        [&](std::int64_t first, std::int64_t n, const sampling_context&, const sampler&) {
            std::unique_ptr<network_denoiser> model = flow.network_model();
            condition c;
            c.channels = images.slice(0, first, first + n).contiguous();
            model->set_condition(c);
            return task_flow::conditioned_batch{{std::move(model), 1}, nullptr, {}, tensor(), nullptr};
        },
        fmt::format(", {} per scene of {} test scenes, conditioned on the image ({} channel{})", largest, scenes,
                    channels, channels == 1 ? "" : "s"));

    // Ensembles of each size: the first n members of each scene.
    metric_values values;
    tensor shown_prediction, shown_spread;
    const std::unique_ptr<metric> dice = ctx.builder().create(component_ref<metric>("dice"));
    for (std::int64_t n : opts_.sizes) {
        tensor sum, square;
        for (std::int64_t k = 0; k < n; ++k) {
            const tensor m = member(samples, k, largest);
            sum = sum.defined() ? sum + m : m;
            square = square.defined() ? square + m * m : m * m;
        }
        const tensor mean = sum * (1.0f / static_cast<float>(n));
        const tensor spread = sqrt(clamp(square * (1.0f / static_cast<float>(n)) - mean * mean, 0.0f, 1e9f));
        const tensor predicted = above(mean, opts_.threshold);
        metric_inputs in;
        in.samples = predicted;
        in.reference = test.x;
        values.emplace_back(fmt::format("dice_n{}", n), dice->compute(in).front().second);
        if (n > 1)
            values.emplace_back(fmt::format("uncertainty_auroc_n{}", n),
                                wrong_pixel_auroc(ctx.builder(), spread, predicted, test.x));
        if (n == largest) shown_prediction = predicted, shown_spread = spread;
    }

    const std::int64_t columns = std::min<std::int64_t>(flow.sample_options().columns, scenes);
    const auto shown = [&](const tensor& t) { return t.slice(0, 0, columns).contiguous(); };
    const std::vector<float> spread_values = shown(shown_spread).to_vector();
    const float peak = std::max(*std::max_element(spread_values.begin(), spread_values.end()), 1e-6f);
    write_comparison_figure(
        ctx.samples_dir() / "segmentation_ensemble.png",
        {gray_as_rgb(shown(test.paired.slice(1, 0, 1))), palette_images(shown(test.x)),
         palette_images(shown(shown_prediction)), gray_as_rgb(shown(shown_spread) * (2.0f / peak) - 1.0f)},
        columns);
    flow.report() += fmt::format(
        "\nRows: image, true mask, prediction of the ensemble of {} (mean > {}), its per-pixel standard deviation "
        "(white: highest).\n\n![segmentation ensemble]({}/segmentation_ensemble.png)\n",
        largest, opts_.threshold, std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());
    flow.record_values(values, scenes,
                       fmt::format("the true masks of the test scenes 0..{}, ensembles of the first n of {} samples "
                                   "each",
                                   scenes - 1, largest));
    flow.write_report();
}

}  // namespace difflab::plugins
