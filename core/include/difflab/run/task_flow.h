// SPDX-License-Identifier: Apache-2.0
// The flow every diffusion task repeats: build, train or adopt, pick weights, sample, save, evaluate, report.
#pragma once

#include <difflab/diffusion/constraint.h>
#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/denoiser.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/diffusion/network.h>
#include <difflab/diffusion/network_denoiser.h>
#include <difflab/diffusion/noise.h>
#include <difflab/diffusion/process.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/diffusion/trajectory.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/task.h>
#include <difflab/run/training.h>
#include <difflab/tensor/precision.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace difflab {

/// The training setup of a task in its run directory: checkpoints in RUN_DIR/checkpoints,
/// log.jsonl, train.init_from's checkpoint adopted first (adopt_checkpoint), and --resume.
/// Train with train_network (or train_diffusion) under an interrupt_guard.
training_setup run_training_setup(run_context& ctx, network& net, const dataset& data, const training_options& train);

/// The weights a checkpoint gave a network.
struct checkpoint_weights {
    std::int64_t step = -1;  ///< -1: there was no checkpoint; the network is left as it was
    bool ema = false;        ///< the EMA weights (else the trained ones)
};
/// Loads the latest checkpoint of `checkpoint_dir` into `net`: its EMA weights when `ema` and
/// the checkpoint keeps them.
checkpoint_weights load_latest_weights(const std::filesystem::path& checkpoint_dir, network& net, bool ema);

/// The sampler of a `sample:` section for one process, with what it was built from.
struct sample_sampler {
    std::unique_ptr<sampler> method;
    config_node node;  ///< the resolved sampler, `steps` as sample.nfe set it
};
/// Builds `sample.sampler` for process p, the combination checked before any work: p must
/// not be refused by the sampler (sampler::check), and a positive sample.nfe sets `steps` to
/// the largest that fits (sampler_for_budget). A refusal or a budget below one step throws
/// variant_not_applicable placed at `where` (the experiment's `sample:`): a grid records the
/// variant as not run, a single run exits 2.
sample_sampler build_sample_sampler(build_context& builder, const sampling_options& sample, const process& p,
                                    const source_mark& where);

/// The skeleton of a task that trains a denoising network and samples it: a task composes
/// its steps in order and supplies only what is its own (the condition seen in training, the
/// denoiser of a batch of samples, the labels metrics compare with). Every step appends its
/// lines to report(); write_report() writes report.md.
class task_flow {
public:
    /// Builds `data`, `process`, `network` and `noise` (when present) from the experiment's
    /// sections and reads its `train:`, `sample:` and `evaluate:` sections; `task_name` names
    /// the task in messages.
    task_flow(run_context& ctx, std::string task_name);

    run_context& context() { return ctx_; }
    const dataset& data() const { return *data_; }
    const process& diffusion() const { return *process_; }
    network& net() { return *net_; }
    /// The experiment's `noise:`, which training and sampling draw (x_T, x_t and every sampler
    /// draw); nullptr without the section: standard Gaussian noise (draw_noise).
    const noise* noise_source() const { return noise_.get(); }
    const training_options& train_options() const { return train_; }
    const sampling_options& sample_options() const { return sample_; }
    const evaluation_options& evaluation() const { return evaluation_; }
    /// The network's parametrization (train.prediction).
    prediction kind() const;
    /// The trained network as the denoiser samples are drawn with: its parametrization
    /// (train.prediction, train.sigma_data) and sample.clip_denoised.
    std::unique_ptr<network_denoiser> network_model() const;
    /// report.md so far (a task may add its own lines).
    std::string& report() { return report_; }

    /// Trains per `train:` with train_diffusion (log.jsonl, checkpoints, --resume, Ctrl-C), after
    /// adopting train.init_from's checkpoint; nothing when sampling only or train.steps is 0.
    /// The training noise is noise_source(); `conditioning` is as training_job::conditioning
    /// (empty: the network sees an empty condition, no labels).
    void train(const condition_source& conditioning = {}, const std::function<double(double)>& time_of = {});
    /// The same for a network that is not a denoiser of this process's x_t (SR3's regression
    /// baseline, Saharia et al. 2022): the one training loop (train_network) on `objective`,
    /// with the run's checkpoints, init_from, --resume, Ctrl-C and report lines.
    void train_objective(const training_objective& objective);

    /// Loads the latest checkpoint into the network, its EMA weights when sample.ema and the
    /// run keeps them; records which in the protocol. Without a checkpoint the network keeps its
    /// initialization, which is an error when the run trained or only samples. From here on
    /// the task computes in sample.precision (precision.h), until the flow ends.
    void load_weights();

    /// What samples [first, first + n) are drawn with.
    struct batch_model {
        std::unique_ptr<denoiser> model;
        std::int64_t passes = 1;  ///< network evaluations per sample per denoiser evaluation
    };
    using model_factory = std::function<batch_model(std::int64_t first, std::int64_t n)>;
    /// What samples [first, first + n) are drawn with when more than the denoiser conditions
    /// them (inpainting, editing): a path other than the sampler's default, state edits, and
    /// the state the path starts from.
    struct conditioned_batch {
        batch_model denoising;
        std::shared_ptr<const sampling_path> path;  ///< null: the sampler's default path from t_max
        std::vector<std::shared_ptr<const state_constraint>> constraints;
        tensor start;  ///< [n, ...] at the path's start; undefined: the prior draw x_T
        /// The batch's measurements, for a sampler that inverts them itself (DDRM,
        /// sampler::inverts_observation); null for every other sampler.
        std::shared_ptr<const observation> observed;
    };
    /// `context` is the sampling context the batch will be sampled with (seed, first index,
    /// noise), for the factory's own draws (noised_start); `method` the sampler (its times()).
    using conditioned_factory = std::function<conditioned_batch(
        std::int64_t first, std::int64_t n, const sampling_context& context, const sampler& method)>;

    /// The samples to draw: sample.count, or evaluate.count when evaluating needs more.
    std::int64_t sample_count() const;
    /// The samples the metrics read: evaluate.count, or sample.count.
    std::int64_t evaluation_count() const;

    /// Draws sample_count() samples with sample.sampler in batches of sample.batch_size: x_T
    /// (prior_std times noise_source()'s draw) and every sampler draw of sample i (through
    /// sampling_context::source) are keyed by i, so results do not depend on the batch size and
    /// the first n of any count are the same n. Writes samples.safetensors, grid.png (the
    /// first sample.count) and trajectory.png (the first batch's path) to ctx.samples_dir().
    /// The ranks of an MPI job each draw a contiguous share of the batches and every rank
    /// receives all the samples, which are those of one process. `note` ends the report's
    /// sampling line (", guidance scale 3").
    const tensor& draw_samples(const model_factory& make, const std::string& note = "");
    /// The same for conditioned batches: each batch is sampled along its path with its
    /// constraints from its start (or x_T).
    const tensor& draw_samples(const conditioned_factory& make, const std::string& note = "");
    /// Samples the task computed without sampling (a baseline with no network: bicubic
    /// upsampling, the pseudo-inverse H^+ y), saved and reported as draw_samples saves its own;
    /// `description` says how they were made ("the pseudo-inverse H^+ y").
    const tensor& use_samples(tensor samples, const std::string& description);

    /// With evaluate.metrics, scores the first evaluation_count() samples against the reference
    /// split and writes metrics.json; `sample_labels` are their classes (or undefined) and
    /// `model` the denoiser of likelihood metrics (nullptr: none).
    void evaluate(const tensor& sample_labels, const denoiser* model);
    /// With evaluate.metrics, scores the first evaluation_count() samples against `targets`
    /// paired with them row by row (the images an inpainting or editing run started from), with
    /// their `target_labels` as the reference labels and `sample_labels`; the task's own values
    /// (`task_values`, e.g. a PSNR over the pixels it filled in) join metrics.json after the
    /// metrics'. `description` names the targets in the protocol.
    void evaluate_paired(const tensor& targets, const tensor& target_labels, const tensor& sample_labels,
                         const std::string& description, const metric_values& task_values = {});

    /// The values a task computes itself rather than through `evaluate.metrics` (an anomaly
    /// detector's AUROC over its own scores), written to metrics.json with the run's protocol,
    /// `samples` of them scored against `description`, and added to the report as a table.
    void record_values(const metric_values& values, std::int64_t samples, const std::string& description);
    /// The same for values a task computed partly through `evaluate.metrics` (each metric on
    /// every frame of a video, then averaged): `computed` keeps the metrics' own protocols (a
    /// feature network's SHA-256, ...) and the seconds spent, which metrics.json records.
    void record_values(const evaluation_result& computed, std::int64_t samples, const std::string& description);

    /// report.md in the run directory (not when only sampling) and beside the samples.
    void write_report() const;

private:
    /// Writes samples_ (samples.safetensors, grid.png) and adds `line` and the figure to the report.
    void save_samples(const std::string& line);
    /// Adds what a training run did to the report (steps, time, loss, init_from, the loss plot).
    void report_training(const training_result& trained);
    /// Ends the samples' part of the report with where the raw samples are.
    void note_raw_samples();

    run_context& ctx_;
    std::string task_name_;
    training_options train_;
    sampling_options sample_;
    evaluation_options evaluation_;
    std::unique_ptr<dataset> data_;
    std::unique_ptr<process> process_;
    std::unique_ptr<network> net_;
    std::unique_ptr<noise> noise_;
    evaluation_protocol protocol_;
    std::optional<precision_scope> sampling_precision_;  ///< set by load_weights
    sample_sampler sampler_;
    tensor samples_;
    std::string report_;
};

}  // namespace difflab
