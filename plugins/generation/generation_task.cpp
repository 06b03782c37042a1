// SPDX-License-Identifier: Apache-2.0
// The 'generation' task.
#include "generation_task.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/diffusion/trajectory.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/checkpoint.h>
#include <difflab/io/image_io.h>
#include <difflab/io/plot.h>
#include <difflab/io/safetensors.h>
#include <difflab/run/checkpoint_adoption.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/training.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

namespace difflab::plugins {

namespace fs = std::filesystem;

namespace {

/// Classifier-free guidance (Ho & Salimans 2022) in x0 space, which is affine-equivalent to
/// guiding eps: x0 = x0_uncond + w (x0_cond - x0_uncond). w = 1 is the conditional model.
class guided_denoiser final : public denoiser {
public:
    guided_denoiser(network& net, const process& p, prediction kind, double sigma_data, const tensor& labels,
                    const tensor& null_labels, double scale, bool clip)
        : denoiser(p),
          conditional_(net, p, kind, sigma_data),
          unconditional_(net, p, kind, sigma_data),
          scale_(static_cast<float>(scale)),
          clip_(clip) {
        conditional_.set_labels(labels);
        unconditional_.set_labels(null_labels);
    }

protected:
    tensor denoise(const tensor& x, double t) const override {
        const tensor conditional = conditional_.x0(x, t);
        if (scale_ == 1.0f) return clip_ ? clamp(conditional, -1.0f, 1.0f) : conditional;
        const tensor unconditional = unconditional_.x0(x, t);
        const tensor guided = unconditional + (conditional - unconditional) * scale_;
        return clip_ ? clamp(guided, -1.0f, 1.0f) : guided;
    }

private:
    network_denoiser conditional_, unconditional_;
    float scale_;
    bool clip_;
};

/// Labels 0, 1, ..., num_classes - 1, 0, 1, ... for samples first .. first + n - 1.
tensor cycling_labels(std::int64_t first, std::int64_t n, std::int64_t num_classes) {
    std::vector<float> values(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        values[static_cast<std::size_t>(i)] = static_cast<float>((first + i) % num_classes);
    return tensor::from_vector({n}, values);
}

/// Loss against step from log.jsonl, as a plot; returns the PNG's name, or "" without one.
std::string plot_loss(const fs::path& run_dir) {
    std::ifstream in(run_dir / "log.jsonl");
    plot_series loss{"training loss", {}, {}};
    for (std::string line; std::getline(in, line);) {
        const auto entry = nlohmann::json::parse(line, nullptr, false);
        if (entry.is_discarded() || !entry.contains("loss")) continue;
        loss.x.push_back(entry["step"].get<double>());
        loss.y.push_back(entry["loss"].get<double>());
    }
    if (loss.x.empty()) return "";
    return write_line_plot(run_dir / "loss", {loss}, {"training loss", "step", "loss", false, true}) ? "loss.png" : "";
}

}  // namespace

param_spec<generation_task::options> generation_task::params() {
    param_spec<options> spec{"Unconditional or class-conditional generation: train the network, then sample."};
    spec.add(&options::class_conditional, "class_conditional", "Condition the network on the dataset's labels.");
    spec.add(&options::num_classes, "num_classes", "Classes of a class-conditional network (its null class is this).",
             at_least<std::int64_t>(1));
    spec.add(&options::label_dropout, "label_dropout",
             "Probability of training on the null class (for classifier-free guidance).", closed_range(0.0, 1.0));
    spec.add(&options::guidance_scale, "guidance_scale",
             "Classifier-free guidance scale w when sampling (1: the conditional model alone).", at_least(0.0));
    return spec;
}

generation_task::generation_task(const options& opts, build_context&) : opts_(opts) {}

std::string generation_task::train_network(run_context& ctx, const training_options& train, network& net,
                                           const process& diffusion, const dataset& data) const {
    training_job job{net,
                     diffusion,
                     data,
                     train,
                     ctx.seed(),
                     ctx.run_dir() / "checkpoints",
                     ctx.resuming() || !train.init_from.empty()};
    job.log_file = ctx.run_dir() / "log.jsonl";
    if (opts_.class_conditional) {
        const auto null_class = static_cast<float>(opts_.num_classes);
        const double dropout = opts_.label_dropout;
        const std::uint64_t seed = ctx.seed();
        job.labels = [null_class, dropout, seed](const tensor& labels, std::int64_t, std::int64_t first) {
            std::vector<float> values = labels.contiguous().to_vector();
            for (std::size_t i = 0; i < values.size(); ++i) {
                philox_stream stream(seed, random_purpose("train/label_dropout"),
                                     static_cast<std::uint64_t>(first) + i);
                float u = 0;
                stream.uniform(&u, 1);
                if (u < dropout) values[i] = null_class;
            }
            return tensor::from_vector({static_cast<std::int64_t>(values.size())}, values);
        };
    }
    const interrupt_guard interrupt;
    const training_result trained = train_diffusion(job, &interrupt.flag());
    log_info("generation: trained {} steps in {:.1f} s, last loss {:.4f}", trained.steps_done, trained.seconds,
             trained.last_loss);
    std::string report =
        fmt::format("Trained {} steps ({} this session, {:.1f} s, {:.2f} s/step at batch {}); last loss {:.4f}.\n",
                    train.steps, trained.steps_done, trained.seconds,
                    trained.steps_done ? trained.seconds / static_cast<double>(trained.steps_done) : 0.0,
                    train.batch_size, trained.last_loss);
    if (!train.init_from.empty()) report += fmt::format("Started from the checkpoint of `{}`.\n", train.init_from);
    const std::string loss_plot = plot_loss(ctx.run_dir());
    if (!loss_plot.empty()) report += fmt::format("\n![training loss]({})\n", loss_plot);
    return report;
}

generation_task::drawn_samples generation_task::draw_samples(run_context& ctx, const sampling_options& sample,
                                                             prediction kind, double sigma_data, network& net,
                                                             const process& diffusion, const shape_t& example,
                                                             std::int64_t count) const {
    net.eval();
    no_grad_guard no_grad;
    const auto s = ctx.builder().create(sample.sampler);
    s->check(diffusion);
    shape_t shape{count};
    shape.insert(shape.end(), example.begin(), example.end());
    const tensor x_T =
        randn(shape, ctx.seed(), random_purpose("sample/prior")) * static_cast<float>(diffusion.prior_std());
    drawn_samples drawn;
    std::vector<tensor> parts;
    std::int64_t evaluations = 0, batches = 0;
    // The first batch's sampler path, for the trajectory strip (image data only).
    const bool record = sample.trajectory > 0 && shape.size() == 4;
    const auto run_sampler = [&](const denoiser& d, const tensor& x, const sampling_context& sc) {
        if (!record || sc.first_index != 0) return s->sample(d, x, sc);
        const trajectory_recorder recorder(d, sample.trajectory);
        tensor out = s->sample(recorder, x, sc);
        drawn.frames = recorder.frames();
        return out;
    };
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t begin = 0; begin < count; begin += sample.batch_size, ++batches) {
        const std::int64_t end = std::min(count, begin + sample.batch_size), n = end - begin;
        sampling_context sc;
        sc.seed = ctx.seed();
        sc.first_index = static_cast<std::uint64_t>(begin);
        const tensor x = x_T.slice(0, begin, end).contiguous();
        if (opts_.class_conditional) {
            const guided_denoiser d(net, diffusion, kind, sigma_data, cycling_labels(begin, n, opts_.num_classes),
                                    tensor::full({n}, static_cast<float>(opts_.num_classes)), opts_.guidance_scale,
                                    sample.clip_denoised);
            parts.push_back(run_sampler(d, x, sc));
            evaluations += d.evaluations() * (opts_.guidance_scale == 1.0 ? 1 : 2);
        } else {
            network_denoiser d(net, diffusion, kind, sigma_data);
            d.set_clip_denoised(sample.clip_denoised);
            parts.push_back(run_sampler(d, x, sc));
            evaluations += d.evaluations();
        }
    }
    drawn.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    drawn.samples = concat(parts, 0);
    drawn.evaluations_per_batch = evaluations / std::max<std::int64_t>(batches, 1);
    return drawn;
}

void generation_task::run(run_context& ctx) {
    const registry& components = ctx.builder().components();
    const parse_context parsing(&components);
    const auto train = training_options::params().parse(*ctx.experiment().find("train"), parsing);
    const auto sample = sampling_options::params().parse(*ctx.experiment().find("sample"), parsing);
    const auto evaluation = evaluation_options::params().parse(*ctx.experiment().find("evaluate"), parsing);
    const auto data = ctx.build<dataset>("data");
    const auto diffusion = ctx.build<process>("process");
    const auto net = ctx.build<network>("network");
    if (!data || !diffusion || !net)
        throw config_error("task 'generation' needs `data`, `process` and `network` sections");
    const fs::path checkpoints = ctx.run_dir() / "checkpoints";
    std::string report = fmt::format("# {}\n\n", ctx.experiment().find("name")->text());

    // Training.
    if (!ctx.sampling_only() && !train.init_from.empty())
        adopt_checkpoint(train.init_from, ctx.experiment(), checkpoints);
    if (train.steps > 0 && !ctx.sampling_only()) report += train_network(ctx, train, *net, *diffusion, *data);

    // The weights to sample with: the latest checkpoint's EMA (or its weights), if any.
    evaluation_protocol protocol;
    protocol.weights = "none";
    protocol.seed = ctx.seed();
    if (const auto latest = latest_checkpoint_step(checkpoints)) {
        const checkpoint saved = load_checkpoint(checkpoints, *latest);
        state_dict_t weights = saved.model;
        if (sample.ema)
            for (const auto& [name, value] : saved.ema) weights[name] = value;
        net->load_state_dict(weights);
        protocol.weights = sample.ema && !saved.ema.empty() ? "ema" : "raw";
        protocol.checkpoint_step = static_cast<std::int64_t>(*latest);
        report += fmt::format("\nSampled with the {} weights of step {}.\n",
                              protocol.weights == "ema" ? "EMA" : "trained", *latest);
    } else if (ctx.sampling_only() || train.steps > 0) {
        throw error(source_mark{checkpoints.string()}, "no checkpoint to sample from",
                    {"train the run first (train.steps > 0)"});
    }

    // Sampling: the grid shows the first sample.count; the metrics read the first evaluate.count.
    if (!sample.sampler.present())
        throw config_error("task 'generation' needs `sample.sampler`, e.g. sample: {sampler: {type: ddim, steps: 50}}");
    const bool evaluating = !evaluation.metrics.empty();
    const std::int64_t eval_count = evaluation.count > 0 ? evaluation.count : sample.count;
    const drawn_samples drawn =
        draw_samples(ctx, sample, parse_prediction(train.prediction), train.sigma_data, *net, *diffusion,
                     data->example_shape(), evaluating ? std::max(sample.count, eval_count) : sample.count);
    const tensor samples = drawn.samples;
    protocol.sampler = sample.sampler.node();
    protocol.nfe = drawn.evaluations_per_batch;

    const fs::path out = ctx.samples_dir();
    fs::create_directories(out);
    safetensors_file raw;
    raw.add(to_safetensors("samples", samples));
    raw.metadata["sampler"] = to_yaml(sample.sampler.node());
    write_safetensors(out / "samples.safetensors", raw);
    const bool images = samples.dim() == 4;
    if (images) write_image_grid(out / "grid.png", samples.slice(0, 0, sample.count), sample.columns, -1.0f, 1.0f);
    const std::string where = fs::relative(out, ctx.run_dir()).string();
    report += fmt::format(
        "\n{} samples with sampler `{}` ({} network evaluations per batch, {:.1f} s, {:.2f} images/s){}.\n",
        samples.size(0), sample.sampler.type(), drawn.evaluations_per_batch, drawn.seconds,
        static_cast<double>(samples.size(0)) / drawn.seconds,
        opts_.class_conditional
            ? fmt::format(", classes cycling 0..{}, guidance scale {:g}", opts_.num_classes - 1, opts_.guidance_scale)
            : "");
    if (images) report += fmt::format("\n![samples]({}/grid.png)\n", where);
    if (!drawn.frames.empty()) {
        const std::vector<double> times = write_trajectory_strip(out / "trajectory.png", *diffusion, drawn.frames,
                                                                 samples, sample.trajectory_columns);
        report += fmt::format(
            "\nDenoising trajectory of the first {} samples: rows of x_t and of the denoised estimate at t = {:.3g}, "
            "then the sample.\n\n![trajectory]({}/trajectory.png)\n",
            drawn.frames.front().x.size(0), fmt::join(times, ", "), where);
    }
    report += fmt::format("\nRaw samples: `{}/samples.safetensors`.\n", where);

    // Evaluation.
    if (evaluating) {
        metric_inputs inputs = load_reference(ctx, evaluation, protocol.reference);
        inputs.samples = samples.slice(0, 0, eval_count).contiguous();
        if (opts_.class_conditional) inputs.sample_labels = cycling_labels(0, eval_count, opts_.num_classes);
        network_denoiser model(*net, *diffusion, parse_prediction(train.prediction), train.sigma_data);
        if (!opts_.class_conditional) inputs.model = &model;  // a likelihood of the unconditional model only
        inputs.seed = ctx.seed();
        protocol.samples = eval_count;
        const evaluation_result result = evaluate_metrics(ctx, evaluation, inputs, protocol);
        write_metrics_json(ctx.results_dir() / "metrics.json", result);
        report += "\n## Metrics\n" + metrics_markdown(result);
    }

    if (!ctx.sampling_only()) write_file_atomically(ctx.run_dir() / "report.md", report);
    // The copy beside the samples: its image links, written relative to the run directory, must
    // climb back to it.
    std::string local = report;
    const std::string back = fs::relative(ctx.run_dir(), out).string() + "/";
    for (std::size_t at = local.find("]("); at != std::string::npos; at = local.find("](", at + 2 + back.size()))
        local.insert(at + 2, back);
    write_file_atomically(out / "report.md", local);
    log_info("generation: {} samples in {}", samples.size(0), out.string());
}

}  // namespace difflab::plugins
