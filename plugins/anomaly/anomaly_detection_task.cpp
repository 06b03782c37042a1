// SPDX-License-Identifier: Apache-2.0
// The 'anomaly_detection' task.
#include "anomaly_detection_task.h"

#include <difflab/base/error.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "anomaly_scoring.h"
#include "partial_diffusion.h"
#include "pasted_anomalies.h"

namespace difflab::plugins {

param_spec<anomaly_detection_task::options> anomaly_detection_task::params() {
    param_spec<options> spec{
        "Reconstruction-based anomaly detection from partial diffusion (Wyatt et al. 2022, AnoDDPM; Graham et al. "
        "2023, multi-start) on real images with pasted anomalies."};
    spec.add(&options::t_start, "t_start",
             "Times the images are noised to and reconstructed from (AnoDDPM's lambda as a time: 0.2 is step 200 of "
             "1000); several: multi-start, scores z-scored per start and averaged.");
    spec.add(&options::train_max_time, "train_max_time",
             "Training draws times below this (AnoDDPM's lambda_train as a time; 1: all times).",
             closed_range(0.0, 1.0));
    spec.add(&options::anomaly, "anomaly", "The pasted anomaly: square (constant) or patch (from another image).",
             one_of(anomaly_kinds()));
    spec.add(&options::anomaly_size, "anomaly_size", "Side of the pasted anomaly in pixels.",
             at_least<std::int64_t>(1));
    spec.add(&options::anomalous_fraction, "anomalous_fraction", "Share of the images given an anomaly.",
             closed_range(0.0, 1.0));
    spec.add(&options::validation_count, "validation_count",
             "The first images, the validation split: z-scoring of the starts and the Dice threshold.",
             at_least<std::int64_t>(1));
    return spec;
}

anomaly_detection_task::anomaly_detection_task(const options& opts, build_context&) : opts_(opts) {}

void anomaly_detection_task::run(run_context& ctx) {
    task_flow flow(ctx, "anomaly_detection");
    const process& p = flow.diffusion();
    check_starts(p, opts_.t_start, "anomaly_detection");
    const double lambda = opts_.train_max_time;
    if (lambda < 1)
        flow.train({}, [&p, lambda](double u) { return p.training_time(u * lambda); });
    else
        flow.train();
    flow.load_weights();

    const std::int64_t count = flow.sample_count(), validation = opts_.validation_count;
    if (count <= validation)
        throw config_error(
            fmt::format("task 'anomaly_detection': {} images leave none to score after the {} of the "
                        "validation split; raise sample.count or lower validation_count",
                        count, validation));
    const source_images source = load_source_images(flow.data(), count, "anomaly_detection");
    const anomalous_images images =
        paste_anomalies(source.x, opts_.anomaly, opts_.anomaly_size, opts_.anomalous_fraction, ctx.seed());

    // Reconstructions from each start; maps averaged, scores combined over starts.
    std::vector<std::vector<double>> scores;
    tensor maps, first_reconstruction;
    for (double t0 : opts_.t_start) {
        const tensor reconstruction = reconstruct(flow, images.x, t0);
        if (!first_reconstruction.defined()) first_reconstruction = reconstruction;
        const tensor start_maps = anomaly_maps(images.x, reconstruction);
        scores.push_back(image_scores(start_maps));
        maps = maps.defined() ? maps + start_maps : start_maps;
    }
    maps = maps * (1.0f / static_cast<float>(opts_.t_start.size()));

    const std::vector<float> labels = images.labels.to_vector();
    std::vector<std::size_t> normal_validation, anomalous_validation, scored, anomalous_scored;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const bool validating = static_cast<std::int64_t>(i)<validation, anomalous = labels[i]> 0.5f;
        (validating ? (anomalous ? anomalous_validation : normal_validation) : scored).push_back(i);
        if (!validating && anomalous) anomalous_scored.push_back(i);
    }
    if (normal_validation.empty() || anomalous_validation.empty() || anomalous_scored.empty() ||
        anomalous_scored.size() == scored.size())
        throw config_error(fmt::format(
            "task 'anomaly_detection': the validation split needs normal and anomalous images and the scored ones "
            "both kinds (validation: {} normal, {} anomalous; scored: {} anomalous of {}); use more images or an "
            "anomalous_fraction further from 0 and 1",
            normal_validation.size(), anomalous_validation.size(), anomalous_scored.size(), scored.size()));
    const std::vector<double> combined = multi_start_scores(scores, normal_validation);
    std::vector<double> scored_values;
    for (std::size_t i : scored) scored_values.push_back(combined[i]);
    const tensor scored_scores = as_tensor(scored_values), scored_labels = select_rows(images.labels, scored);
    const double threshold = best_dice_threshold(maps, images.masks, anomalous_validation);
    build_context& builder = ctx.builder();
    const metric_values values{
        {"image_auroc", rank_metric(builder, "auroc", scored_scores, scored_labels)},
        {"image_ap", rank_metric(builder, "average_precision", scored_scores, scored_labels)},
        {"pixel_auroc", rank_metric(builder, "auroc", select_rows(maps, scored), select_rows(images.masks, scored))},
        {"dice", mean_dice(maps, images.masks, anomalous_scored, threshold)},
        {"dice_threshold", threshold}};

    // Figure rows over the first scored images: image, mask, reconstruction, map (scaled to [-1, 1]).
    const std::int64_t columns = std::min<std::int64_t>(flow.sample_options().columns, count - validation);
    const auto shown = [&](const tensor& t) { return t.slice(0, validation, validation + columns).contiguous(); };
    const std::vector<float> shown_maps = shown(maps).to_vector();
    const float peak = std::max(*std::max_element(shown_maps.begin(), shown_maps.end()), 1e-6f);
    write_comparison_figure(ctx.samples_dir() / "anomaly_detection.png",
                            {shown(images.x), shown(images.masks) * 2.0f - 1.0f, shown(first_reconstruction),
                             shown(maps) * (2.0f / peak) - 1.0f},
                            columns);
    flow.report() += fmt::format(
        "\n{} images ({} of them the validation split), a {} x {} {} pasted onto {} of them; rows: image, anomaly "
        "mask, reconstruction from t_start = {}, anomaly map.\n\n![anomaly detection]({}/anomaly_detection.png)\n",
        count, validation, opts_.anomaly_size, opts_.anomaly_size, opts_.anomaly,
        static_cast<std::int64_t>(std::count(labels.begin(), labels.end(), 1.0f)), opts_.t_start.front(),
        std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());
    flow.record_values(
        values, static_cast<std::int64_t>(scored.size()),
        fmt::format("images {}..{} of the data with pasted anomalies, paired with their masks and labels", validation,
                    count - 1));
    flow.write_report();
}

}  // namespace difflab::plugins
