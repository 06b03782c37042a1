// SPDX-License-Identifier: Apache-2.0
// The 'video' task (Ho et al. 2022; Höppe et al. 2022, RaMViD).
#include "video_task.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/measurement_conditioning.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <memory>

#include "given_frames.h"
#include "video_metrics.h"
#include "video_output.h"

namespace difflab::plugins {

namespace fs = std::filesystem;

namespace {

/// Metrics with one value per sample where larger is better: the ones best-of-k selects by.
bool ranks_by_maximum(const std::string& type) {
    return type == "psnr" || type == "ssim";
}

/// The mask measurement that observes `given` frames of examples of `shape`, built through the
/// registry (plugin measurements).
std::unique_ptr<measurement> frame_measurement(build_context& builder, const shape_t& shape,
                                               const std::vector<std::int64_t>& given) {
    config_node frames = config_node::sequence();
    for (std::int64_t f : given) frames.push_back(config_node::scalar(std::to_string(f)));
    config_node node = config_node::map();
    node.set("type", config_node::scalar("mask"));
    node.set("observed_frames", frames);
    std::unique_ptr<component> made = builder.create("measurement", node);
    std::unique_ptr<measurement> h(static_cast<measurement*>(made.release()));
    h->bind(shape);
    return h;
}

/// Values of each generated frame, in the order first computed.
struct frame_values {
    std::vector<std::string> names;
    std::map<std::string, std::vector<double>> at;  ///< name -> one value per generated frame

    void add(const std::string& name, double value) {
        if (!at.count(name)) names.push_back(name);
        at[name].push_back(value);
    }
};

/// The report's table of `values` per generated frame.
std::string per_frame_table(const frame_values& values, const std::vector<std::int64_t>& generated) {
    std::string table =
        fmt::format("\n## Per generated frame\n\n| frame | {} |\n|---|", fmt::join(values.names, " | "));
    for (std::size_t i = 0; i < values.names.size(); ++i) table += "---:|";
    table += "\n";
    for (std::size_t k = 0; k < generated.size(); ++k) {
        table += fmt::format("| {} |", generated[k]);
        for (const std::string& name : values.names) table += fmt::format(" {:.4g} |", values.at.at(name)[k]);
        table += "\n";
    }
    return table;
}

/// Every metric of evaluate.metrics on each generated frame of the samples against the true frame
/// (paired row by row), averaged over those frames; best-of-k for the metrics ranked by their
/// maximum; the centroid error. metrics.json gets the averages, the report also the values per frame.
void evaluate_videos(task_flow& flow, run_context& ctx, const tensor& truths, const tensor& samples,
                     const std::vector<std::int64_t>& generated, std::int64_t videos) {
    const evaluation_options& options = flow.evaluation();
    if (options.metrics.empty() || generated.empty()) return;
    const auto started = std::chrono::steady_clock::now();
    const std::int64_t count = samples.size(0), draws = count / videos;
    const auto frame_inputs = [&](std::int64_t f) {
        metric_inputs in;
        in.samples = frame_batch(samples, f);
        in.reference = frame_batch(truths, f);
        in.seed = ctx.seed();
        return in;
    };

    evaluation_result result;
    frame_values per_frame;
    for (std::int64_t f : generated) {
        const evaluation_result at_f = evaluate_metrics(ctx, options, frame_inputs(f), evaluation_protocol{});
        for (const auto& [name, value] : at_f.values) per_frame.add(name, value);
        result.metric_protocols = at_f.metric_protocols;
    }
    for (const std::string& name : per_frame.names) result.values.emplace_back(name, mean_of(per_frame.at[name]));

    // Best of k: each sample's mean over the generated frames, the best draw of each video.
    if (draws > 1)
        for (const component_ref<metric>& ref : options.metrics) {
            if (!ranks_by_maximum(ref.type())) continue;
            std::unique_ptr<component> made = ctx.builder().create("metric", ref.node());
            metric& m = static_cast<metric&>(*made);
            std::vector<double> per_sample(static_cast<std::size_t>(count), 0.0);
            for (std::int64_t f : generated) {
                const std::vector<double> at_f = m.per_example(frame_inputs(f));
                for (std::size_t s = 0; s < per_sample.size(); ++s)
                    per_sample[s] += at_f[s] / static_cast<double>(generated.size());
            }
            result.values.emplace_back(ref.type() + "_best", best_of_draws(per_sample, videos, true));
        }

    const std::vector<std::vector<double>> errors = centroid_errors(samples, truths, generated);
    std::vector<double> per_sample;
    for (const std::vector<double>& e : errors) per_sample.push_back(mean_of(e));
    result.values.emplace_back("centroid_error", mean_of(per_sample));
    if (draws > 1) result.values.emplace_back("centroid_error_best", best_of_draws(per_sample, videos, false));
    for (std::size_t k = 0; k < generated.size(); ++k) {
        std::vector<double> at_k;
        for (const std::vector<double>& e : errors) at_k.push_back(e[k]);
        per_frame.add("centroid_error", mean_of(at_k));
    }

    flow.report() += per_frame_table(per_frame, generated);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    flow.record_values(result, count,
                       fmt::format("the true videos, frames {} of each ({} draws of {} videos)",
                                   fmt::join(generated, ", "), draws, videos));
}

/// What people look at: a strip of the first `shown` videos (the truth's frames, then each draw's)
/// and a GIF per shown sample, linked from the report.
void write_figures(task_flow& flow, run_context& ctx, const video_task::options& opts, const tensor& truths,
                   const tensor& samples, const std::vector<std::int64_t>& given, std::int64_t videos) {
    const fs::path out = ctx.samples_dir();
    const std::int64_t count = samples.size(0), draws = count / videos, frames = samples.size(2);
    const std::int64_t shown_videos = std::min(opts.shown, videos);
    if (shown_videos == 0) return;
    std::vector<tensor> rows;
    for (std::int64_t v = 0; v < shown_videos; ++v) {
        rows.push_back(frames_of(video_at(truths, v)));
        for (std::int64_t d = 0; d < draws; ++d) rows.push_back(frames_of(video_at(samples, v + d * videos)));
    }
    write_comparison_figure(out / "strip.png", rows, frames);
    const std::string rel = fs::relative(out, ctx.run_dir()).string();
    flow.report() +=
        fmt::format("\nPer video: the true frames, then {} draw{} (frames {} given).\n\n![strip]({}/strip.png)\n\n",
                    draws, draws == 1 ? "" : "s", fmt::join(given, ", "), rel);
    for (std::int64_t s = 0; s < std::min(opts.shown, count); ++s) {
        const std::string name = fmt::format("video_{:03}.gif", s);
        write_animated_gif(out / name, side_by_side_frames(video_at(truths, s), video_at(samples, s), given),
                           static_cast<int>(opts.gif_delay_cs));
        flow.report() += fmt::format("![sample {}]({}/{}) ", s, rel, name);
    }
    flow.report() += "\n\nEach GIF: the truth, then the sample; a grey border marks the given frames.\n";
}

/// Trains per `train:` with RaMViD's clean frames (uncondition_rate < 1), or as an unconditional
/// video model.
void train_model(task_flow& flow, run_context& ctx, const video_task::options& opts, std::int64_t frames,
                 std::int64_t max_given) {
    if (opts.uncondition_rate >= 1.0) {
        flow.train();
        return;
    }
    flow.train([&](const example_batch& batch, std::int64_t, std::int64_t first) {
        condition c;
        c.clean_mask = draw_training_frames(batch.x.size(0), frames, static_cast<std::uint64_t>(first), ctx.seed(),
                                            opts.uncondition_rate, max_given);
        c.loss_mask = c.clean_mask * -1.0f + 1.0f;  // scored on the frames it must generate
        return c;
    });
}

}  // namespace

param_spec<video_task::options> video_task::params() {
    param_spec<options> spec{
        "Video prediction, infilling and generation (Ho et al. 2022, Video Diffusion Models; Höppe et al. 2022, "
        "RaMViD): RaMViD's masked training, conditioning by clean frames, replacement or reconstruction guidance."};
    spec.add(&options::mode, "mode",
             "Which frames are given at sampling: prediction (the first `given`), infilling (the first ceil(given/2) "
             "and the last floor(given/2)), generation (none).",
             one_of({"prediction", "infilling", "generation"}));
    spec.add(&options::given, "given", "Frames given to the model at sampling (prediction and infilling).",
             at_least<std::int64_t>(0));
    spec.add(&options::method, "method",
             "clean_replacement: the given frames clean in every state, the network told which (RaMViD; train "
             "with uncondition_rate < 1); replacement: the given frames noised to each state's level (Song et al. "
             "2021); reconstruction_guidance: replacement plus Ho et al.'s guidance at the `guidance` scale w_r.",
             one_of({"clean_replacement", "replacement", "reconstruction_guidance"}));
    spec.section(&options::guidance, "guidance",
                 "The reconstruction guidance weight w_r over time (method reconstruction_guidance).",
                 guidance_schedule::params("reconstruction guidance"));
    spec.add(&options::uncondition_rate, "uncondition_rate",
             "Training: the share of examples with no frame given (1: an unconditional video model).",
             closed_range(0.0, 1.0));
    spec.add(&options::max_given, "max_given",
             "Training: examples with given frames keep 1 to this many clean (RaMViD's K); 0: half the frames.",
             at_least<std::int64_t>(0));
    spec.add(&options::samples_per_video, "samples_per_video",
             "Draws per video (k of best-of-k); sample.count must be a multiple of it.", at_least<std::int64_t>(1));
    spec.add(&options::shown, "shown", "Samples shown as frame strips and animated GIFs.", at_least<std::int64_t>(0));
    spec.add(&options::gif_delay_cs, "gif_delay_cs", "Hundredths of a second each GIF frame is shown.",
             closed_range<std::int64_t>(1, 1000));
    return spec;
}

video_task::video_task(const options& opts, build_context&) : opts_(opts) {
    if (opts_.method == "clean_replacement" && opts_.uncondition_rate >= 1.0 && opts_.mode != "generation")
        throw config_error(
            "video: method clean_replacement needs a model trained with clean frames, but uncondition_rate is 1 "
            "(an unconditional model); use method replacement or reconstruction_guidance, or lower uncondition_rate");
}

void video_task::run(run_context& ctx) {
    task_flow flow(ctx, "video");
    const shape_t shape = flow.data().example_shape();
    if (shape.size() != 4)
        throw config_error(
            fmt::format("video: the data's examples are {}, but the task needs videos [C, F, H, W]; "
                        "use a video data set such as moving_fashion_mnist",
                        shape_text(shape)));
    const std::int64_t frames = shape[1];
    const std::int64_t max_given = opts_.max_given > 0 ? opts_.max_given : std::max<std::int64_t>(1, frames / 2);
    if (max_given >= frames)
        throw config_error(
            fmt::format("video: max_given {} leaves no frame to score in videos of {} frames; set "
                        "task.max_given below {}",
                        max_given, frames, frames));

    if (opts_.shown > 0 && shape[0] != 1)
        throw config_error(
            fmt::format("video: the GIFs and strips show gray videos, but the data has {} channels; "
                        "set task.shown: 0",
                        shape[0]));
    train_model(flow, ctx, opts_, frames, max_given);
    flow.load_weights();

    // Sample s is draw s / V of video s % V: the first V samples are one draw of every video.
    const std::int64_t count = flow.sample_count(), draws = opts_.samples_per_video;
    if (count % draws != 0)
        throw config_error(
            fmt::format("video: sample.count {} is not a multiple of samples_per_video {}; make it "
                        "videos x draws",
                        count, draws));
    const std::int64_t videos = count / draws;
    if (flow.data().size() < videos)
        throw config_error(fmt::format("video: {} videos to sample but the data has {}; lower sample.count", videos,
                                       flow.data().size()));
    std::vector<std::int64_t> sources;
    for (std::int64_t s = 0; s < count; ++s) sources.push_back(s % videos);
    const tensor truths = flow.data().get(sources).x.contiguous();

    const std::vector<std::int64_t> given = given_frames(opts_.mode, frames, opts_.given);
    const std::vector<std::int64_t> generated = generated_frames(frames, given);
    const std::unique_ptr<measurement> h = given.empty() ? nullptr : frame_measurement(ctx.builder(), shape, given);
    const process& p = flow.diffusion();
    const bool guided = opts_.method == "reconstruction_guidance";
    std::vector<std::unique_ptr<denoiser>> unguided;  // outlive the guidance wrappers that refer to them

    const tensor samples = flow.draw_samples(
        [&](std::int64_t first, std::int64_t n, const sampling_context&, const sampler&) {
            std::unique_ptr<network_denoiser> model = flow.network_model();
            task_flow::conditioned_batch batch{{nullptr, 1}, nullptr, {}, tensor(), nullptr};
            if (!h) {
                batch.denoising.model = std::move(model);
                return batch;
            }
            const tensor y = h->apply(truths.slice(0, first, first + n).contiguous());
            if (opts_.method == "clean_replacement") {
                condition c;
                c.clean_mask = frame_mask(n, frames, given);  // the network is told which frames are given
                model->set_condition(c);
                batch.denoising.model = std::move(model);
                batch.constraints.push_back(std::make_shared<clean_replacement>(*h, y));
                return batch;
            }
            batch.constraints.push_back(std::make_shared<measurement_replacement>(p, *h, y));
            if (!guided) {
                batch.denoising.model = std::move(model);
                return batch;
            }
            unguided.push_back(std::move(model));
            batch.denoising = {std::make_unique<reconstruction_guidance>(*unguided.back(), *h, y, opts_.guidance), 2};
            return batch;
        },
        fmt::format(", {} of {} frames given ({}), {}{}", given.size(), frames, opts_.mode, opts_.method,
                    guided ? fmt::format(" at w_r {:g}", opts_.guidance.scale) : ""));

    write_figures(flow, ctx, opts_, truths, samples, given, videos);
    evaluate_videos(flow, ctx, truths, samples, generated, videos);
    flow.write_report();
}

}  // namespace difflab::plugins
