// SPDX-License-Identifier: Apache-2.0
// The train: and sample: sections, the training loop and its diffusion objective.
#include <difflab/base/distributed.h>
#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/base/progress.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/io/atomic_file.h>
#include <difflab/io/checkpoint.h>
#include <difflab/run/training.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/optim.h>
#include <difflab/tensor/precision.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

namespace difflab {

namespace fs = std::filesystem;

param_spec<training_options> training_options::params() {
    param_spec<training_options> spec{
        "Training of the network (the task's loss: the process's denoising loss for "
        "diffusion tasks)."};
    spec.add(&training_options::steps, "steps", "Optimizer steps; 0 trains nothing.", at_least<std::int64_t>(0));
    spec.add(&training_options::batch_size, "batch_size", "Examples per step.", at_least<std::int64_t>(1));
    spec.add(&training_options::prediction, "prediction", "What the network predicts: eps, x0, v, score or edm.",
             one_of({"eps", "x0", "v", "score", "edm"}));
    spec.add(&training_options::sigma_data, "sigma_data", "Data standard deviation of EDM preconditioning.",
             greater_than(0.0));
    spec.add(&training_options::optimizer, "optimizer", "adam or adamw.", one_of({"adam", "adamw"}));
    spec.add(&training_options::lr, "lr", "Learning rate (after warm-up).", greater_than(0.0));
    spec.add(&training_options::beta1, "beta1", "Adam beta1.", closed_range(0.0, 1.0));
    spec.add(&training_options::beta2, "beta2", "Adam beta2.", closed_range(0.0, 1.0));
    spec.add(&training_options::weight_decay, "weight_decay", "Weight decay (decoupled for adamw).", at_least(0.0));
    spec.add(&training_options::warmup, "warmup", "Steps of linear learning-rate warm-up.", at_least<std::int64_t>(0));
    spec.add(&training_options::schedule, "schedule",
             "Learning rate after the warm-up: constant, or cosine (decays to 0 at the last step; Loshchilov & "
             "Hutter 2017).",
             one_of({"constant", "cosine"}));
    spec.add(&training_options::grad_clip, "grad_clip", "Clip the gradient norm to this; 0 disables.", at_least(0.0));
    spec.add(&training_options::ema, "ema",
             "Decay of the EMA weights used for sampling, warmed up as min(ema, (1 + n) / (10 + n)) after n steps; 0 "
             "disables.",
             closed_range(0.0, 1.0));
    spec.add(&training_options::checkpoint_every, "checkpoint_every", "Steps between checkpoints (and one at the end).",
             at_least<std::int64_t>(1));
    spec.add(&training_options::keep_checkpoints, "keep_checkpoints", "Newest checkpoints kept; 0 keeps all.",
             at_least<std::int64_t>(0));
    spec.add(&training_options::log_every, "log_every", "Steps between lines of log.jsonl.", at_least<std::int64_t>(1));
    spec.add(&training_options::init_from, "init_from",
             "Run directory whose latest checkpoint this run starts from (same network and process): fine-tuning, "
             "or with steps equal to its step, new sampling and evaluation settings without training again.");
    spec.add(&training_options::precision, "precision",
             "fp32, or bf16: mixed precision, the forward and backward of convolutions, matrix products and "
             "attention in bf16 (f32 accumulation), everything else, the weights, gradients and optimizer state in "
             "f32 (Micikevicius et al. 2018).",
             one_of({"fp32", "bf16"}));
    return spec;
}

optim::lr_schedule training_options::learning_rates() const {
    optim::lr_schedule rates;
    rates.type =
        schedule == "cosine" && steps > warmup ? optim::lr_schedule::kind::cosine : optim::lr_schedule::kind::constant;
    rates.base_lr = lr;
    rates.warmup_steps = warmup;
    rates.total_steps = steps;
    return rates;
}

param_spec<sampling_options> sampling_options::params() {
    param_spec<sampling_options> spec{"Sampling after training (and `difflab sample` on a run directory)."};
    spec.add(&sampling_options::sampler, "sampler", "The sampler.");
    spec.add(&sampling_options::nfe, "nfe",
             "Denoiser evaluations per sample: the sampler's steps become the largest that fit (sampler_for_budget); "
             "0 keeps its own steps.",
             at_least<std::int64_t>(0));
    spec.add(&sampling_options::count, "count", "Samples to draw.", at_least<std::int64_t>(1));
    spec.add(&sampling_options::batch_size, "batch_size", "Samples per sampler call (results do not depend on it).",
             at_least<std::int64_t>(1));
    spec.add(&sampling_options::columns, "columns", "Columns of the sample grid.", at_least<std::int64_t>(1));
    spec.add(&sampling_options::ema, "ema", "Sample with the EMA weights when the run keeps them.");
    spec.add(&sampling_options::clip_denoised, "clip_denoised",
             "Clamp each denoised estimate to [-1, 1], the range of image data (Ho et al. 2020).");
    spec.add(&sampling_options::trajectory, "trajectory",
             "Samples whose denoising trajectory (x_t and its denoised estimate along the sampler's evaluations) "
             "is drawn in trajectory.png, for image data; 0 draws none.",
             at_least<std::int64_t>(0));
    spec.add(&sampling_options::trajectory_columns, "trajectory_columns",
             "Evaluations shown in each row of trajectory.png, spread evenly from the first to the last.",
             at_least<std::int64_t>(1));
    spec.add(&sampling_options::precision, "precision",
             "fp32, or bf16: the network's convolutions, matrix products and attention compute in bf16 (f32 "
             "accumulation and results) while sampling; metrics' feature networks stay fp32.",
             one_of({"fp32", "bf16"}));
    return spec;
}

namespace {

using json = nlohmann::json;

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
    interrupted.store(true);
}

/// Drops log lines past `step` (those of steps a resumed run repeats).
void truncate_log(const fs::path& file, std::int64_t step) {
    if (!fs::exists(file)) return;
    std::ifstream in(file);
    std::string kept;
    for (std::string line; std::getline(in, line);) {
        const json entry = json::parse(line, nullptr, false);
        if (!entry.is_discarded() && entry.contains("step") && entry["step"].get<std::int64_t>() <= step)
            kept += line + "\n";
    }
    write_file_atomically(file, kept);
}

/// The examples of `count` consecutive positions of the data stream: epoch e visits the data
/// in the Philox permutation (seed, purpose, e).
class data_order {
public:
    data_order(std::int64_t size, std::uint64_t seed, const std::string& purpose)
        : size_(size), seed_(seed), purpose_(random_purpose(purpose)) {}

    std::vector<std::int64_t> indices(std::int64_t first_position, std::int64_t count) {
        std::vector<std::int64_t> out(static_cast<std::size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) {
            const std::int64_t position = first_position + i, epoch = position / size_;
            if (epoch != epoch_) {
                permutation_ = philox_stream(seed_, purpose_, static_cast<std::uint64_t>(epoch)).permutation(size_);
                epoch_ = epoch;
            }
            out[static_cast<std::size_t>(i)] = permutation_[static_cast<std::size_t>(position % size_)];
        }
        return out;
    }

private:
    std::int64_t size_;
    std::uint64_t seed_;
    std::uint64_t purpose_;
    std::int64_t epoch_ = -1;
    std::vector<std::int64_t> permutation_;
};

std::unique_ptr<optim::optimizer> make_optimizer(const training_options& o, std::vector<tensor> params) {
    optim::adam_options a;
    a.lr = static_cast<float>(o.lr);
    a.beta1 = static_cast<float>(o.beta1);
    a.beta2 = static_cast<float>(o.beta2);
    a.weight_decay = static_cast<float>(o.weight_decay);
    if (o.optimizer == "adamw") return std::make_unique<optim::adamw>(std::move(params), a);
    return std::make_unique<optim::adam>(std::move(params), a);
}

/// Data parallelism (Goyal et al. 2017's synchronous SGD): every rank of an MPI job computes
/// the loss of its rows of each batch, and the gradient of the whole batch is the sum over
/// ranks of each rank's mean gradient weighted by its share of the rows. The sums are taken in
/// rank order, so every rank applies the same update whatever the timing.
class batch_shard {
public:
    explicit batch_shard(std::int64_t batch) : batch_(batch), rows_(distributed::share(batch)) {
        if (rows_.size() == 0)
            throw config_error(
                fmt::format("train: batch_size {} is smaller than the {} ranks of this job; raise "
                            "train.batch_size or start fewer ranks",
                            batch, distributed::size()));
    }

    bool shared() const { return distributed::size() > 1; }
    /// Where this rank's rows start in the batch and how many there are.
    std::int64_t first_row() const { return rows_.begin; }
    std::int64_t rows() const { return rows_.size(); }

    /// The batch's loss and the objective's logged values (means over the batch), and whether any
    /// rank was asked to stop, from every rank's means over its rows.
    bool combine(double& loss, std::vector<std::pair<std::string, double>>& logged, bool stop) const {
        if (!shared()) return stop;
        std::vector<double> values{loss * weight(), stop ? 1.0 : 0.0};
        for (const auto& entry : logged) values.push_back(entry.second * weight());
        distributed::sum_in_rank_order(values);
        loss = values[0];
        for (std::size_t i = 0; i < logged.size(); ++i) logged[i].second = values[i + 2];
        return values[1] > 0;
    }

    /// Replaces each parameter's gradient by the batch's: the weighted sum over ranks. A gradient
    /// that no rank has (a part of the network the batch did not reach) stays undefined, as in
    /// one process.
    void sum_gradients(const std::vector<tensor>& params) const {
        if (!shared()) return;
        no_grad_guard no_grad;
        std::vector<float> flat(params.size(), 0.0f);  // per parameter: 1 where this rank has a gradient
        for (std::size_t i = 0; i < params.size(); ++i) {
            const tensor g = params[i].grad();
            if (g.defined()) flat[i] = 1.0f;
            std::vector<float> values = g.defined() ? g.to_vector() : std::vector<float>(params[i].numel(), 0.0f);
            for (float& v : values) v *= static_cast<float>(weight());
            flat.insert(flat.end(), values.begin(), values.end());
        }
        distributed::sum_in_rank_order(flat);
        std::size_t at = params.size();
        for (std::size_t i = 0; i < params.size(); ++i) {
            tensor p = params[i];
            const auto n = static_cast<std::size_t>(p.numel());
            if (flat[i] > 0)
                p.set_grad(tensor::from_vector(p.shape(),
                                               std::vector<float>(flat.begin() + static_cast<std::ptrdiff_t>(at),
                                                                  flat.begin() + static_cast<std::ptrdiff_t>(at + n))));
            at += n;
        }
    }

private:
    double weight() const { return static_cast<double>(rows_.size()) / static_cast<double>(batch_); }

    std::int64_t batch_;
    distributed::share_range rows_;
};

}  // namespace

interrupt_guard::interrupt_guard() {
    interrupted.store(false);
    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
}

interrupt_guard::~interrupt_guard() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
}

const std::atomic<bool>& interrupt_guard::flag() const {
    return interrupted;
}

namespace {

/// The checkpoint `latest` names or, when a file of it is damaged (truncated, bytes changed, a
/// half-written pair), the newest earlier one that loads, each skipped one logged with its
/// error; every parameter and state tensor is restored by a successful load, so a failed one
/// leaves nothing behind. Throws when none loads, with the newest one's error.
checkpoint restore_newest_intact(const training_setup& job, std::uint64_t latest, optim::optimizer& optimizer,
                                 optim::ema* average) {
    std::vector<std::uint64_t> steps{latest};
    for (std::uint64_t step : checkpoint_steps(job.checkpoint_dir))
        if (step < latest) steps.push_back(step);
    std::string first_error;
    for (std::uint64_t step : steps) {
        try {
            return restore_checkpoint(job.checkpoint_dir, step, job.net, optimizer, average);
        } catch (const config_error&) {
            throw;  // the run, not the file: another architecture, a missing EMA
        } catch (const error& e) {
            log_warn("train: checkpoint step_{} cannot be loaded ({}); trying an earlier one", step, e.what());
            if (first_error.empty()) first_error = e.what();
        }
    }
    throw error(source_mark{job.checkpoint_dir.string()},
                fmt::format("--resume: no checkpoint here loads; the newest failed with: {}; remove the run and "
                            "train again without --resume",
                            first_error));
}

}  // namespace

training_result train_network(const training_setup& job, const training_objective& objective,
                              const std::atomic<bool>* stop) {
    const training_options& o = job.options;
    const auto batch = o.batch_size;
    if (job.data.size() < 1) throw config_error("train: the dataset is empty");

    job.net.train();
    const dtype compute = parse_precision(o.precision);
    const auto optimizer = make_optimizer(o, job.net.parameters());
    const optim::lr_schedule rates = o.learning_rates();
    std::unique_ptr<optim::ema> average =
        o.ema > 0 ? std::make_unique<optim::ema>(job.net, static_cast<float>(o.ema)) : nullptr;
    std::int64_t step = 0;
    if (job.resume) {
        const auto latest = latest_checkpoint_step(job.checkpoint_dir);
        if (!latest)
            throw config_error(source_mark{job.checkpoint_dir.string()}, "--resume: no checkpoint to resume from",
                               {"run without --resume to start the training"});
        const checkpoint restored = restore_newest_intact(job, *latest, *optimizer, average.get());
        const auto saved_batch = restored.state.find("batch_size");
        if (saved_batch != restored.state.end() && std::stoll(saved_batch->second) != batch)
            throw config_error(
                fmt::format("--resume: the checkpoint was trained with train.batch_size={}, the experiment says {}; "
                            "resume with the same batch size",
                            saved_batch->second, batch));
        step = static_cast<std::int64_t>(restored.step);
        if (!job.log_file.empty()) truncate_log(job.log_file, step);
        log_info("train: resumed at step {} from {}", step, job.checkpoint_dir.string());
    }

    auto save = [&](std::int64_t at) {
        save_checkpoint(job.checkpoint_dir, static_cast<std::uint64_t>(at), job.net, *optimizer, average.get(),
                        {{"batch_size", std::to_string(batch)}}, static_cast<int>(o.keep_checkpoints));
        distributed::barrier();  // rank 0 saves; no rank goes on to read a checkpoint before it is there
    };
    data_order order(job.data.size(), job.seed, job.order_purpose);
    const batch_shard shard(batch);
    const bool logging = !job.log_file.empty();
    std::ofstream log;
    if (logging && distributed::is_root()) log.open(job.log_file, std::ios::app);

    training_result result;
    const auto start = std::chrono::steady_clock::now();
    progress_bar bar("training", o.steps, step);
    const std::int64_t first_step = step;
    for (; step < o.steps; ++step) {
        const std::int64_t done = step + 1;
        training_step current;
        current.step = step;
        // Position in the data stream of this rank's rows of the batch (all of it in one process).
        current.first_position = step * batch + shard.first_row();
        current.logged = logging && (done % o.log_every == 0 || done == o.steps);
        const example_batch examples = job.data.get(order.indices(current.first_position, shard.rows()));

        const float lr = rates.at(step);
        optimizer->set_learning_rate(lr);
        optimizer->zero_grad();
        nn::set_dropout_stream(job.net, static_cast<std::uint64_t>(step),
                               static_cast<std::uint64_t>(current.first_position));
        tensor loss;
        {
            const precision_scope mixed(compute);  // backward keeps the precision of each op's forward
            loss = objective(examples, current);
        }
        double value = loss.to_vector().front();
        const bool stopping = shard.combine(value, current.log_values, stop && stop->load());
        if (!std::isfinite(value)) {
            const auto good = latest_checkpoint_step(job.checkpoint_dir);
            throw error(fmt::format("train: the loss is {} at step {}; {}; lower train.lr or set train.grad_clip",
                                    std::isnan(value) ? "NaN" : "infinite", done,
                                    good ? fmt::format("the last good checkpoint (step {}) is kept in {}", *good,
                                                       job.checkpoint_dir.string())
                                         : std::string("no checkpoint was saved yet")));
        }
        loss.backward();
        shard.sum_gradients(job.net.parameters());
        const double grad_norm =
            o.grad_clip > 0 ? optim::clip_grad_norm(job.net.parameters(), static_cast<float>(o.grad_clip)) : 0.0;
        optimizer->step();
        if (average) {
            // Warm-up of the average (TensorFlow's ExponentialMovingAverage with num_updates):
            // decay min(ema, (1 + n) / (10 + n)) after n updates, so that a short run's average is
            // not dominated by its initialization (0.995^700 still weighs the initial weights 3%).
            const double n = static_cast<double>(step);
            average->set_decay(static_cast<float>(std::min(o.ema, (1 + n) / (10 + n))));
            average->update(job.net);
        }
        result.last_loss = value;

        if (log.is_open() && current.logged) {
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            nlohmann::ordered_json line{{"step", done}, {"loss", value}};
            for (const auto& [key, logged] : current.log_values) line[key] = logged;
            line["lr"] = lr;
            line["grad_norm"] = grad_norm;
            line["seconds"] = seconds;
            log << line.dump() << "\n" << std::flush;
        }
        bar.update(done, fmt::format("loss {:.4f}", value));
        if (done % o.checkpoint_every == 0 || done == o.steps) save(done);
        if (shard.shared() ? stopping : stop && stop->load()) {
            if (done % o.checkpoint_every != 0 && done != o.steps) save(done);
            bar.finish();
            throw error(fmt::format(
                "train: interrupted at step {}; checkpoint saved in {}; continue with difflab run ... --resume", done,
                job.checkpoint_dir.string()));
        }
    }
    bar.finish();
    result.steps_done = step - first_step;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

training_result train_diffusion(const training_job& job, const std::atomic<bool>* stop) {
    const process& p = job.diffusion;
    const prediction kind = parse_prediction(job.options.prediction);
    const shape_t example = job.data.example_shape();
    const auto objective = [&](const example_batch& examples, training_step& at) {
        const std::int64_t batch = examples.x.size(0), first = at.first_position;
        std::vector<double> times(static_cast<std::size_t>(batch));
        for (std::int64_t i = 0; i < batch; ++i) {
            philox_stream stream(job.seed, random_purpose("train/time"), static_cast<std::uint64_t>(first + i));
            float u = 0;
            stream.uniform(&u, 1);
            times[static_cast<std::size_t>(i)] = job.time_of ? job.time_of(u) : p.training_time(u);
        }
        shape_t shape{batch};
        shape.insert(shape.end(), example.begin(), example.end());
        const tensor noise = draw_noise(job.source, shape, job.seed, random_purpose("train/noise"),
                                        static_cast<std::uint64_t>(first), 0);
        const condition cond = job.conditioning ? job.conditioning(examples, at.step, first) : condition();
        return denoising_loss(job.net, p, kind, job.options.sigma_data, examples.x, times, noise, cond);
    };
    return train_network(job, objective, stop);
}

}  // namespace difflab
