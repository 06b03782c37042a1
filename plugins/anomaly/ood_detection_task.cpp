// SPDX-License-Identifier: Apache-2.0
// The 'ood_detection' task.
#include "ood_detection_task.h"

#include <difflab/base/error.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "anomaly_scoring.h"
#include "partial_diffusion.h"

namespace difflab::plugins {

param_spec<ood_detection_task::options> ood_detection_task::params() {
    param_spec<options> spec{
        "Out-of-distribution detection by multi-start reconstruction from partial diffusion (Graham et al. 2023)."};
    spec.add(&options::outliers, "outliers",
             "The out-of-distribution images, a dataset of the data's shape, e.g. {type: fashion_mnist, split: test, "
             "flip: vertical}.");
    spec.add(&options::held_out, "held_out",
             "The in-distribution images to score, when the run's data are its training set, e.g. {type: "
             "fashion_mnist, split: test, classes: [0]}; absent: the run's data.");
    spec.add(&options::t_start, "t_start",
             "Times the images are reconstructed from; scores z-scored per start and averaged.");
    spec.add(&options::validation_count, "validation_count",
             "The first images of the data: the in-distribution validation images that z-score each start.",
             at_least<std::int64_t>(2));
    spec.add(&options::likelihood, "likelihood",
             "Also score each image by this metric of the model, one with per-example values, e.g. {type: nll_bpd, "
             "batch_size: 50} (score_sde): the likelihood baseline (Nalisnick et al. 2019); absent: reconstruction "
             "only.");
    return spec;
}

ood_detection_task::ood_detection_task(const options& opts, build_context&) : opts_(opts) {
    if (!opts_.outliers.present())
        throw config_error(
            "task 'ood_detection' needs `outliers`, the out-of-distribution images; add e.g. outliers: {type: "
            "fashion_mnist, split: test, flip: vertical}");
}

void ood_detection_task::run(run_context& ctx) {
    task_flow flow(ctx, "ood_detection");
    check_starts(flow.diffusion(), opts_.t_start, "ood_detection");
    flow.train();
    flow.load_weights();

    const std::int64_t count = flow.sample_count(), validation = opts_.validation_count;
    const std::int64_t each = (count - validation) / 2;
    if (each < 1)
        throw config_error(
            fmt::format("task 'ood_detection': {} images leave none to score after the {} validation "
                        "images; sample.count must be at least validation_count + 2",
                        count, validation));
    const std::unique_ptr<dataset> outliers = ctx.builder().create(opts_.outliers);
    const std::unique_ptr<dataset> held_out = ctx.builder().create(opts_.held_out);
    const auto check_shape = [&](const dataset* d, const char* which) {
        if (d && d->example_shape() != flow.data().example_shape())
            throw config_error(
                fmt::format("task 'ood_detection': the {} examples {} differ from the data's {}; give "
                            "{} of the same shape (size:, channels:)",
                            which, shape_text(d->example_shape()), shape_text(flow.data().example_shape()), which));
    };
    check_shape(outliers.get(), "outliers");
    check_shape(held_out.get(), "held_out");
    const dataset& normal = held_out ? *held_out : flow.data();
    const tensor inside = load_source_images(normal, validation + each, "ood_detection").x;
    const tensor outside = load_source_images(*outliers, each, "ood_detection (outliers)").x;
    tensor images = concat({inside, outside}, 0);
    if (images.size(0) < count) images = concat({images, inside.slice(0, 0, count - images.size(0))}, 0);  // odd count
    images = images.contiguous();

    std::vector<std::vector<double>> scores;
    tensor first_reconstruction;
    for (double t0 : opts_.t_start) {
        const tensor reconstruction = reconstruct(flow, images, t0);
        if (!first_reconstruction.defined()) first_reconstruction = reconstruction;
        scores.push_back(image_scores(anomaly_maps(images, reconstruction)));
    }
    std::vector<std::size_t> reference, scored;
    std::vector<double> labels;
    for (std::int64_t i = 0; i < validation; ++i) reference.push_back(static_cast<std::size_t>(i));
    for (std::int64_t i = validation; i < validation + 2 * each; ++i) {
        scored.push_back(static_cast<std::size_t>(i));
        labels.push_back(i >= validation + each ? 1.0 : 0.0);
    }
    const auto scored_scores = [&](const std::vector<double>& all) {
        std::vector<double> out;
        for (std::size_t i : scored) out.push_back(all[i]);
        return as_tensor(out);
    };
    const tensor truth = as_tensor(labels);
    const std::vector<double> combined = multi_start_scores(scores, reference);
    build_context& builder = ctx.builder();
    metric_values values{{"image_auroc", rank_metric(builder, "auroc", scored_scores(combined), truth)},
                         {"image_ap", rank_metric(builder, "average_precision", scored_scores(combined), truth)}};
    for (std::size_t k = 0; k < opts_.t_start.size(); ++k)
        values.emplace_back(fmt::format("image_auroc_t{}", opts_.t_start[k]),
                            rank_metric(builder, "auroc", scored_scores(scores[k]), truth));

    if (opts_.likelihood.present()) {
        // The likelihood baseline: the metric's value for each scored image (its per-example
        // values), higher NLL taken as more likely an outlier.
        config_node all_images = opts_.likelihood.node();
        if (all_images.find("count")) all_images.set("count", config_node::scalar("0"));  // every image given
        const std::unique_ptr<metric> nll(static_cast<metric*>(builder.create("metric", all_images).release()));
        const std::unique_ptr<network_denoiser> model = flow.network_model();
        std::vector<tensor> rows;
        for (std::size_t i : scored)
            rows.push_back(images.slice(0, static_cast<std::int64_t>(i), static_cast<std::int64_t>(i) + 1));
        metric_inputs in;
        in.reference = concat(rows, 0);
        in.model = model.get();
        in.seed = ctx.seed();
        const std::vector<double> values_of_scored = nll->per_example(in);
        std::vector<double> per_image(images.size(0), 0.0);
        for (std::size_t k = 0; k < scored.size(); ++k) per_image[scored[k]] = values_of_scored[k];
        values.emplace_back("likelihood_auroc", rank_metric(builder, "auroc", scored_scores(per_image), truth));
    }

    const std::int64_t columns = std::min<std::int64_t>(flow.sample_options().columns, each);
    const auto rows = [](const tensor& t, std::int64_t first, std::int64_t n) {
        return t.slice(0, first, first + n).contiguous();
    };
    write_comparison_figure(
        ctx.samples_dir() / "ood_detection.png",
        {rows(images, validation, columns), rows(first_reconstruction, validation, columns),
         rows(images, validation + each, columns), rows(first_reconstruction, validation + each, columns)},
        columns);
    flow.report() += fmt::format(
        "\n{} in-distribution validation images, {} in-distribution and {} outlier images scored ({}). Rows: "
        "in-distribution images and their reconstructions from t_start = {}, then outliers and theirs.\n\n"
        "![ood detection]({}/ood_detection.png)\n",
        validation, each, each, to_flow_yaml(opts_.outliers.node()), opts_.t_start.front(),
        std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());
    flow.record_values(values, 2 * each,
                       fmt::format("{} in-distribution images of the data against {} of `{}`", each, each,
                                   to_flow_yaml(opts_.outliers.node())));
    flow.write_report();
}

}  // namespace difflab::plugins
