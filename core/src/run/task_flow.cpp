// SPDX-License-Identifier: Apache-2.0
// The flow every diffusion task repeats.
#include <difflab/base/distributed.h>
#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/diffusion/nfe_budget.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/checkpoint.h>
#include <difflab/io/image_io.h>
#include <difflab/io/plot.h>
#include <difflab/io/safetensors.h>
#include <difflab/run/checkpoint_adoption.h>
#include <difflab/run/task_flow.h>
#include <difflab/run/variants.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

namespace difflab {

namespace fs = std::filesystem;

namespace {

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

/// The `count` samples of every rank of an MPI job, in index order, from this rank's `parts`
/// (its share of the batches, in order; none where there are fewer batches than ranks). In one
/// process, the parts joined.
tensor gather_samples(const std::vector<tensor>& parts, std::int64_t count) {
    if (distributed::size() == 1) return concat(parts, 0);
    // A sample's shape is the sampler's, which may not be the data's (a mask drawn for an
    // image): rank 0, which always draws the first batch, says what it is.
    std::vector<double> shape;
    if (distributed::is_root())
        for (std::int64_t d : parts.front().shape()) shape.push_back(static_cast<double>(d));
    shape = distributed::gather_all(shape);
    shape_t all{count};
    for (std::size_t d = 1; d < shape.size(); ++d) all.push_back(static_cast<std::int64_t>(shape[d]));
    std::vector<float> mine;
    for (const tensor& part : parts) {
        const std::vector<float> values = part.to_vector();
        mine.insert(mine.end(), values.begin(), values.end());
    }
    return tensor::from_vector(all, distributed::gather_all(mine));
}

}  // namespace

training_setup run_training_setup(run_context& ctx, network& net, const dataset& data, const training_options& train) {
    const fs::path checkpoints = ctx.run_dir() / "checkpoints";
    if (!train.init_from.empty()) adopt_checkpoint(train.init_from, ctx.experiment(), checkpoints);
    distributed::barrier();  // rank 0 has copied init_from's checkpoint before any rank resumes from it
    training_setup setup{net, data, train, ctx.seed(), checkpoints, ctx.resuming() || !train.init_from.empty()};
    setup.log_file = ctx.run_dir() / "log.jsonl";
    return setup;
}

checkpoint_weights load_latest_weights(const fs::path& checkpoint_dir, network& net, bool ema) {
    checkpoint_weights loaded;
    const auto latest = latest_checkpoint_step(checkpoint_dir);
    if (!latest) return loaded;
    const checkpoint saved = load_checkpoint(checkpoint_dir, *latest);
    state_dict_t weights = saved.model;
    if (ema)
        for (const auto& [name, value] : saved.ema) weights[name] = value;
    net.load_state_dict(weights);
    loaded.step = static_cast<std::int64_t>(*latest);
    loaded.ema = ema && !saved.ema.empty();
    return loaded;
}

task_flow::task_flow(run_context& ctx, std::string task_name)
    : ctx_(ctx),
      task_name_(std::move(task_name)),
      train_(ctx.options<training_options>("train")),
      sample_(ctx.options<sampling_options>("sample")),
      evaluation_(ctx.options<evaluation_options>("evaluate")),
      data_(ctx.build<dataset>("data")),
      process_(ctx.build<process>("process")),
      net_(ctx.build<network>("network")),
      noise_(ctx.build<noise>("noise")) {
    // resolve_experiment refuses these first (required_sections); a context built by hand may not.
    if (!data_ || !process_ || !net_)
        throw config_error(fmt::format("task '{}' needs `data`, `process` and `network` sections", task_name_));
    protocol_.weights = "none";
    protocol_.seed = ctx.seed();
    report_ = fmt::format("# {}\n\n", ctx.name());
}

prediction task_flow::kind() const {
    return parse_prediction(train_.prediction);
}

void task_flow::train(const condition_source& conditioning, const std::function<double(double)>& time_of) {
    if (ctx_.sampling_only()) return;
    training_job job{run_training_setup(ctx_, *net_, *data_, train_), *process_};
    if (train_.steps == 0) return;  // init_from adopted as it is
    job.source = noise_.get();
    job.conditioning = conditioning;
    job.time_of = time_of;
    const interrupt_guard interrupt;
    report_training(train_diffusion(job, &interrupt.flag()));
}

void task_flow::train_objective(const training_objective& objective) {
    if (ctx_.sampling_only()) return;
    const training_setup setup = run_training_setup(ctx_, *net_, *data_, train_);
    if (train_.steps == 0) return;
    const interrupt_guard interrupt;
    report_training(train_network(setup, objective, &interrupt.flag()));
}

void task_flow::report_training(const training_result& trained) {
    log_info("{}: trained {} steps in {:.1f} s, last loss {:.4f}", task_name_, trained.steps_done, trained.seconds,
             trained.last_loss);
    report_ +=
        fmt::format("Trained {} steps ({} this session, {:.1f} s, {:.2f} s/step at batch {}); last loss {:.4f}.\n",
                    train_.steps, trained.steps_done, trained.seconds,
                    trained.steps_done ? trained.seconds / static_cast<double>(trained.steps_done) : 0.0,
                    train_.batch_size, trained.last_loss);
    if (!train_.init_from.empty()) report_ += fmt::format("Started from the checkpoint of `{}`.\n", train_.init_from);
    const std::string loss_plot = plot_loss(ctx_.run_dir());
    if (!loss_plot.empty()) report_ += fmt::format("\n![training loss]({})\n", loss_plot);
}

void task_flow::load_weights() {
    sampling_precision_.reset();
    sampling_precision_.emplace(parse_precision(sample_.precision));
    protocol_.precision = sample_.precision;
    const fs::path checkpoints = ctx_.run_dir() / "checkpoints";
    const checkpoint_weights loaded = load_latest_weights(checkpoints, *net_, sample_.ema);
    if (loaded.step >= 0) {
        protocol_.weights = loaded.ema ? "ema" : "raw";
        protocol_.checkpoint_step = loaded.step;
        report_ +=
            fmt::format("\nSampled with the {} weights of step {}.\n", loaded.ema ? "EMA" : "trained", loaded.step);
    } else if (ctx_.sampling_only() || train_.steps > 0) {
        throw error(source_mark{checkpoints.string()}, "no checkpoint to sample from",
                    {"train the run first (train.steps > 0)"});
    }
}

std::int64_t task_flow::evaluation_count() const {
    return evaluation_.count > 0 ? evaluation_.count : sample_.count;
}

sample_sampler build_sample_sampler(build_context& builder, const sampling_options& sample, const process& p,
                                    const source_mark& where) {
    auto make = [&](const config_node& node) {
        return std::unique_ptr<sampler>(static_cast<sampler*>(builder.create("sampler", node).release()));
    };
    const config_node& written = sample.sampler.node();
    const std::unique_ptr<sampler> configured = make(written);
    try {
        configured->check(p);
    } catch (const config_error& refusal) {
        throw variant_not_applicable(refusal.where(), refusal.message(), refusal.context());
    }
    std::optional<config_node> budgeted = sampler_for_budget(builder, written, p, sample.nfe);
    if (!budgeted) {
        config_node one = written;
        one.set("steps", config_node::scalar("1"));
        throw variant_not_applicable(
            where, fmt::format("sample.nfe = {} is below one step of sampler '{}' on this process ({} evaluations); "
                               "raise sample.nfe",
                               sample.nfe, sample.sampler.type(), make(one)->evaluations(p)));
    }
    std::unique_ptr<sampler> method = make(*budgeted);
    return {std::move(method), std::move(*budgeted)};
}

std::int64_t task_flow::sample_count() const {
    return evaluation_.metrics.empty() ? sample_.count : std::max(sample_.count, evaluation_count());
}

std::unique_ptr<network_denoiser> task_flow::network_model() const {
    auto d = std::make_unique<network_denoiser>(*net_, *process_, kind(), train_.sigma_data);
    d->set_clip_denoised(sample_.clip_denoised);
    return d;
}

const tensor& task_flow::draw_samples(const model_factory& make, const std::string& note) {
    return draw_samples(
        [&make](std::int64_t first, std::int64_t n, const sampling_context&, const sampler&) {
            return conditioned_batch{make(first, n), nullptr, {}, tensor(), nullptr};
        },
        note);
}

const tensor& task_flow::draw_samples(const conditioned_factory& make, const std::string& note) {
    if (!sample_.sampler.present())
        throw config_error(fmt::format(
            "task '{}' needs `sample.sampler`, e.g. sample: {{sampler: {{type: ddim, steps: 50}}}}", task_name_));
    const std::int64_t count = sample_count();
    net_->eval();
    std::vector<trajectory_frame> frames;  // the first batch's path, for the trajectory strip
    std::int64_t evaluations = 0, batches = 0;
    double seconds = 0;
    {
        const no_grad_guard no_grad;
        const config_node* section = ctx_.experiment().find("sample");
        sampler_ = build_sample_sampler(ctx_.builder(), sample_, *process_, section ? section->mark() : source_mark{});
        const sampler* s = sampler_.method.get();
        const shape_t example = data_->example_shape();
        shape_t shape{count};
        shape.insert(shape.end(), example.begin(), example.end());
        const tensor x_T = draw_noise(noise_.get(), shape, ctx_.seed(), random_purpose("sample/prior"), 0, 0) *
                           static_cast<float>(process_->prior_std());
        const bool record = sample_.trajectory > 0 && shape.size() == 4;  // image data only
        std::vector<tensor> parts;
        const auto start = std::chrono::steady_clock::now();
        // The ranks of an MPI job draw contiguous runs of whole batches, each the batch one process
        // would draw: every draw is keyed by the sample's index, so the samples are those of one process.
        const distributed::share_range mine = distributed::share(count, sample_.batch_size);
        for (std::int64_t begin = mine.begin; begin < mine.end; begin += sample_.batch_size, ++batches) {
            const std::int64_t end = std::min(mine.end, begin + sample_.batch_size);
            sampling_context sc;
            sc.seed = ctx_.seed();
            sc.first_index = static_cast<std::uint64_t>(begin);
            sc.source = noise_.get();
            const conditioned_batch c = make(begin, end - begin, sc, *s);
            const batch_model& m = c.denoising;
            sc.path = c.path.get();
            for (const auto& constraint : c.constraints) sc.constraints.push_back(constraint.get());
            sc.observed = c.observed.get();
            const tensor x = c.start.defined() ? c.start : x_T.slice(0, begin, end).contiguous();
            if (record && begin == 0) {
                const trajectory_recorder recorder(*m.model, sample_.trajectory);
                parts.push_back(s->sample(recorder, x, sc));
                frames = recorder.frames();
            } else {
                parts.push_back(s->sample(*m.model, x, sc));
            }
            evaluations += m.model->evaluations() * m.passes;
        }
        samples_ = gather_samples(parts, count);
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    if (distributed::size() > 1) {
        std::vector<double> totals{static_cast<double>(evaluations), static_cast<double>(batches)};
        distributed::sum_in_rank_order(totals);
        evaluations = static_cast<std::int64_t>(totals[0]);
        batches = static_cast<std::int64_t>(totals[1]);
    }
    const std::int64_t per_batch = evaluations / std::max<std::int64_t>(batches, 1);
    protocol_.sampler = sampler_.node;
    protocol_.nfe = static_cast<double>(per_batch);

    save_samples(
        fmt::format("{} samples with sampler `{}` ({} network evaluations per batch, {:.1f} s, {:.2f} images/s){}",
                    samples_.size(0), sample_.sampler.type(), per_batch, seconds,
                    static_cast<double>(samples_.size(0)) / seconds, note));
    const fs::path out = ctx_.samples_dir();
    const std::string where = fs::relative(out, ctx_.run_dir()).string();
    if (!frames.empty()) {
        const std::vector<double> times =
            write_trajectory_strip(out / "trajectory.png", *process_, frames, samples_, sample_.trajectory_columns);
        report_ += fmt::format(
            "\nDenoising trajectory of the first {} samples: rows of x_t and of the denoised estimate at t = {:.3g}, "
            "then the sample.\n\n![trajectory]({}/trajectory.png)\n",
            frames.front().x.size(0), fmt::join(times, ", "), where);
    }
    note_raw_samples();
    return samples_;
}

const tensor& task_flow::use_samples(tensor samples, const std::string& description) {
    samples_ = std::move(samples);
    protocol_.nfe = 0;
    save_samples(fmt::format("{} samples: {}", samples_.size(0), description));
    note_raw_samples();
    return samples_;
}

void task_flow::note_raw_samples() {
    report_ += fmt::format("\nRaw samples: `{}/samples.safetensors`.\n",
                           fs::relative(ctx_.samples_dir(), ctx_.run_dir()).string());
    log_info("{}: {} samples in {}", task_name_, samples_.size(0), ctx_.samples_dir().string());
}

void task_flow::save_samples(const std::string& line) {
    const fs::path out = ctx_.samples_dir();
    fs::create_directories(out);
    safetensors_file raw;
    raw.add(to_safetensors("samples", samples_));
    if (sampler_.method) raw.metadata["sampler"] = to_yaml(sampler_.node);
    write_safetensors(out / "samples.safetensors", raw);
    report_ += "\n" + line + ".\n";
    if (samples_.dim() == 4) {
        write_image_grid(out / "grid.png", samples_.slice(0, 0, std::min(sample_.count, samples_.size(0))),
                         sample_.columns, -1.0f, 1.0f);
        report_ += fmt::format("\n![samples]({}/grid.png)\n", fs::relative(out, ctx_.run_dir()).string());
    }
}

void task_flow::evaluate(const tensor& sample_labels, const denoiser* model) {
    if (evaluation_.metrics.empty()) return;
    const std::int64_t count = evaluation_count();
    metric_inputs inputs = load_reference(ctx_, evaluation_, protocol_.reference);
    inputs.samples = samples_.slice(0, 0, count).contiguous();
    inputs.sample_labels = sample_labels;
    inputs.model = model;
    inputs.seed = ctx_.seed();
    protocol_.samples = count;
    const evaluation_result result = evaluate_metrics(ctx_, evaluation_, inputs, protocol_);
    write_metrics_json(ctx_.results_dir() / "metrics.json", result);
    report_ += "\n## Metrics\n" + metrics_markdown(result);
}

void task_flow::evaluate_paired(const tensor& targets, const tensor& target_labels, const tensor& sample_labels,
                                const std::string& description, const metric_values& task_values) {
    if (evaluation_.metrics.empty()) return;
    const std::int64_t count = evaluation_count();
    if (!targets.defined() || targets.size(0) < count)
        throw error(fmt::format("task '{}': {} targets for {} samples to evaluate", task_name_,
                                targets.defined() ? targets.size(0) : 0, count));
    metric_inputs inputs;
    inputs.samples = samples_.slice(0, 0, count).contiguous();
    inputs.reference = targets.slice(0, 0, count).contiguous();
    if (target_labels.defined()) inputs.reference_labels = target_labels.slice(0, 0, count).contiguous();
    if (sample_labels.defined()) inputs.sample_labels = sample_labels.slice(0, 0, count).contiguous();
    inputs.seed = ctx_.seed();
    protocol_.samples = count;
    protocol_.reference = description;
    evaluation_result result = evaluate_metrics(ctx_, evaluation_, inputs, protocol_);
    for (const auto& value : task_values) result.values.push_back(value);
    write_metrics_json(ctx_.results_dir() / "metrics.json", result);
    report_ += "\n## Metrics\n" + metrics_markdown(result);
}

void task_flow::record_values(const metric_values& values, std::int64_t samples, const std::string& description) {
    evaluation_result result;
    result.values = values;
    record_values(result, samples, description);
}

void task_flow::record_values(const evaluation_result& computed, std::int64_t samples, const std::string& description) {
    protocol_.samples = samples;
    protocol_.reference = description;
    evaluation_result result = computed;
    result.protocol = protocol_;
    write_metrics_json(ctx_.results_dir() / "metrics.json", result);
    report_ += "\n## Metrics\n" + metrics_markdown(result);
}

void task_flow::write_report() const {
    if (!ctx_.sampling_only()) write_file_atomically(ctx_.run_dir() / "report.md", report_);
    // The copy beside the samples: its image links, written relative to the run directory, must
    // climb back to it.
    const fs::path out = ctx_.samples_dir();
    fs::create_directories(out);
    std::string local = report_;
    const std::string back = fs::relative(ctx_.run_dir(), out).string() + "/";
    for (std::size_t at = local.find("]("); at != std::string::npos; at = local.find("](", at + 2 + back.size()))
        local.insert(at + 2, back);
    write_file_atomically(out / "report.md", local);
}

}  // namespace difflab
