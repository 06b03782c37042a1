// SPDX-License-Identifier: Apache-2.0
// The 'oracle_conditioning' task: one conditioning method x sampler x NFE cell on a Gaussian-mixture oracle.
#include "oracle_conditioning_task.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/classifier_free_guidance.h>
#include <difflab/diffusion/classifier_guidance.h>
#include <difflab/diffusion/constraint.h>
#include <difflab/diffusion/measurement_conditioning.h>
#include <difflab/diffusion/nfe_budget.h>
#include <difflab/diffusion/process.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/io/atomic_file.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/training.h>
#include <difflab/run/variants.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exact_gmm_denoiser.h"
#include "gmm_dataset.h"
#include "measurement_posterior.h"
#include "oracle_evaluation.h"
#include "sample_statistics.h"

namespace difflab::plugins {

namespace {

const std::vector<std::string> measurement_methods = {"replacement", "repaint", "projection",
                                                      "reconstruction_guidance"};
const std::vector<std::string> class_methods = {"classifier_guidance", "classifier_free_guidance"};

bool is_measurement_method(const std::string& method) {
    return std::find(measurement_methods.begin(), measurement_methods.end(), method) != measurement_methods.end();
}

/// The law a method should sample, exactly.
struct exact_target {
    std::string description;  ///< for the report, the protocol and the floor's cache key
    std::function<Eigen::MatrixXd(std::int64_t n, std::uint64_t first)> draw;
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;
};

/// One method set up on the data: its target, the denoiser and state edits it samples with, its
/// path on a sampler, and the evaluations of the models it drives.
class method_setup {
public:
    method_setup(const oracle_conditioning_task::options& o, build_context& builder, const process& p,
                 const gmm_dataset& data, std::uint64_t seed)
        : opts_(o), process_(p), exact_(p, data.mixture()) {
        const gaussian_mixture& mixture = data.mixture();
        const std::uint64_t purpose = random_purpose("oracle/conditional");
        // One measurement (one label) for every sample: the operators broadcast it over any batch.
        if (is_measurement_method(o.method)) {
            if (!o.measurement.present())
                throw config_error(
                    fmt::format("task 'oracle_conditioning': method '{}' needs task.measurement, e.g. "
                                "{{type: mask, missing: right_half}}; add it",
                                o.method));
            measurement_.reset(
                static_cast<measurement*>(builder.create("measurement", o.measurement.node()).release()));
            measurement_->bind(data.example_shape());
            if (o.observation >= data.size())
                throw config_error(
                    fmt::format("task 'oracle_conditioning': observation {} of a data set of {} "
                                "examples; choose an example below {}",
                                o.observation, data.size(), data.size()));
            y_ = measurement_->apply(data.get({o.observation}).x);
            posterior_ = std::make_unique<measurement_posterior>(mixture, *measurement_, y_);
            const measurement_posterior& law = *posterior_;
            target_ = {fmt::format("p(x0 | H x0 = y), H {}, y of example {}", to_flow_yaml(o.measurement.node()),
                                   o.observation),
                       [&law, seed, purpose](std::int64_t n, std::uint64_t first) {
                           return law.draw(n, seed, purpose, first);
                       },
                       law.mean(), law.covariance()};
            if (o.method == "replacement" || o.method == "repaint" || o.replace)
                edits_.push_back(std::make_unique<measurement_replacement>(p, *measurement_, y_, o.fixed_noise));
            if (o.method == "projection") guided_ = std::make_unique<measurement_projection>(exact_, *measurement_, y_);
            if (o.method == "reconstruction_guidance")
                guided_ = std::make_unique<reconstruction_guidance>(exact_, *measurement_, y_, o.guidance);
            return;
        }
        if (o.class_index >= mixture.components())
            throw config_error(
                fmt::format("task 'oracle_conditioning': class {} of a mixture of {} components; "
                            "choose a class below {}",
                            o.class_index, mixture.components(), mixture.components()));
        class_ = std::make_unique<gaussian_mixture>(mixture.component(o.class_index));
        class_denoiser_ = std::make_unique<exact_gmm_denoiser>(p, *class_);
        classifier_ = std::make_unique<gmm_class_posterior>(p, mixture);
        const gaussian_mixture& law = *class_;
        target_ = {
            fmt::format("p(x0 | class {}), component {} of the gmm", o.class_index, o.class_index),
            [&law, seed, purpose](std::int64_t n, std::uint64_t first) { return law.draw(n, seed, purpose, first); },
            law.mean(), law.covariance()};
        if (o.method == "classifier_guidance")
            guided_ = std::make_unique<classifier_guidance>(
                exact_, *classifier_, tensor::full({1}, static_cast<float>(o.class_index)), o.guidance);
        else  // classifier_free_guidance
            guided_ = std::make_unique<classifier_free_guidance>(*class_denoiser_, exact_, o.guidance);
    }

    const exact_target& target() const { return target_; }
    /// Whether the method edits the state or follows a path of its own (samplers must follow paths).
    bool edits_state() const { return !edits_.empty() || opts_.method == "repaint"; }

    /// Samples x (rows first_index...) with sampler s under ctx's seed and first_index.
    tensor sample(const sampler& s, const tensor& x, sampling_context& ctx) const {
        std::optional<sampling_path> own;
        if (opts_.method == "repaint") {
            own = repaint_path(s.times(process_, process_.t_max()), opts_.jump_length, opts_.jump_n_sample);
            ctx.path = &*own;
        }
        for (const auto& edit : edits_) ctx.constraints.push_back(edit.get());
        return s.sample(guided_ ? *guided_ : static_cast<const denoiser&>(exact_), x, ctx);
    }

    /// Evaluations of the models (the exact denoisers) since the last reset.
    std::int64_t evaluations() const {
        return exact_.evaluations() + (class_denoiser_ ? class_denoiser_->evaluations() : 0);
    }
    void reset_evaluations() const {
        exact_.reset_evaluations();
        if (class_denoiser_) class_denoiser_->reset_evaluations();
    }

private:
    const oracle_conditioning_task::options& opts_;
    const process& process_;
    exact_gmm_denoiser exact_;
    std::unique_ptr<measurement> measurement_;
    tensor y_;
    std::unique_ptr<measurement_posterior> posterior_;
    std::unique_ptr<gaussian_mixture> class_;
    std::unique_ptr<exact_gmm_denoiser> class_denoiser_;
    std::unique_ptr<gmm_class_posterior> classifier_;
    exact_target target_;
    std::unique_ptr<denoiser> guided_;  ///< null: the exact denoiser itself
    std::vector<std::unique_ptr<state_constraint>> edits_;
};

std::unique_ptr<sampler> make_sampler(build_context& builder, const config_node& node) {
    return std::unique_ptr<sampler>(static_cast<sampler*>(builder.create("sampler", node).release()));
}

}  // namespace

param_spec<oracle_conditioning_task::options> oracle_conditioning_task::params() {
    param_spec<options> spec{
        "One conditioning method on one sampler (sample.sampler at sample.nfe, the whole run counted) and process, "
        "driven by the exact denoiser of the `gmm` data: the metrics of `evaluate:` against exact samples of the "
        "exact conditional, with their floor, and moment errors, in metrics.json. A grid over method x sampler "
        "compares methods at equal NFE."};
    std::vector<std::string> methods = measurement_methods;
    methods.insert(methods.end(), class_methods.begin(), class_methods.end());
    spec.add(&options::method, "method",
             "Given a measurement y = H x0: replacement (of the state's measured part at its noise level, Song et "
             "al. 2021), repaint (replacement on RePaint's path with jumps back up, Lugmayr et al. 2022), projection "
             "(of the denoised estimate, Wang et al. 2023), reconstruction_guidance (Ho et al. 2022); target p(x0 | "
             "H x0 = y). Given a class: classifier_guidance (the exact class posterior's gradient, Dhariwal & Nichol "
             "2021) or classifier_free_guidance (the exact denoisers of the class and of the mixture, Ho & Salimans "
             "2022); target p(x0 | class).",
             one_of(methods));
    spec.add(&options::measurement, "measurement",
             "The noiseless linear measurement H of the measurement methods, bound to the data's example shape, e.g. "
             "{type: mask, missing: right_half} (points observe their first half).");
    spec.add(&options::observation, "observation", "The dataset example x whose measurement y = H x is observed.",
             at_least<std::int64_t>(0));
    spec.add(&options::jump_length, "jump_length", "repaint: grid times per jump back up (RePaint's j).",
             at_least<std::int64_t>(1));
    spec.add(&options::jump_n_sample, "jump_n_sample",
             "repaint: how often each stretch is denoised (RePaint's r; 1 is replacement).", at_least<std::int64_t>(1));
    spec.add(&options::fixed_noise, "fixed_noise",
             "Replacement draws the noise of the measured part once for the whole path instead of at every state.");
    spec.add(&options::replace, "replace",
             "projection and reconstruction_guidance also replace the state's measured part (Ho et al. 2022 guide "
             "the unmeasured part and replace the measured one).");
    spec.add(&options::class_index, "class", "The component the class methods target.", at_least<std::int64_t>(0));
    spec.section(&options::guidance, "guidance",
                 "The scale over time of reconstruction_guidance, classifier_guidance (1: exact) and "
                 "classifier_free_guidance (1: the class's own denoiser, exact).",
                 guidance_schedule::params("guidance"));
    spec.add(&options::floor_pairs, "floor_pairs",
             "Pairs of independent exact sets of the conditional whose metric values, averaged, are each metric's "
             "floor.",
             at_least<std::int64_t>(1));
    return spec;
}

oracle_conditioning_task::oracle_conditioning_task(const options& opts, build_context&) : opts_(opts) {}

void oracle_conditioning_task::run(run_context& ctx) {
    refuse_non_gaussian_noise(ctx, "oracle_conditioning");
    const config_node& experiment = ctx.experiment();
    const auto sample = ctx.options<sampling_options>("sample");
    const auto evaluation = ctx.options<evaluation_options>("evaluate");
    const std::unique_ptr<dataset> data = ctx.build<dataset>("data");
    const auto* gmm = dynamic_cast<const gmm_dataset*>(data.get());
    if (!gmm)
        throw config_error(
            experiment.find("data")->mark(),
            "task 'oracle_conditioning' needs `data: {type: gmm, ...}`, whose exact conditionals it uses");
    const std::unique_ptr<process> p = ctx.build<process>("process");
    build_context& builder = ctx.builder();
    const std::uint64_t seed = ctx.seed();
    const std::int64_t count = evaluation.count > 0 ? evaluation.count : sample.count;
    const method_setup method(opts_, builder, *p, *gmm, seed);
    const source_mark where = experiment.find("sample")->mark();

    // The combination first: a refusal or an unaffordable budget comes before any work.
    const config_node& written = sample.sampler.node();
    {
        const std::unique_ptr<sampler> configured = make_sampler(builder, written);
        try {
            configured->check(*p);
        } catch (const config_error& refusal) {
            throw variant_not_applicable(refusal.where(), refusal.message(), refusal.context());
        }
        if (method.edits_state() && !configured->follows_paths())
            throw variant_not_applicable(
                where, fmt::format("sampler '{}' cannot follow a path or edits of the state (adaptive steps), which "
                                   "method '{}' needs; use a sampler on a time grid",
                                   sample.sampler.type(), opts_.method));
    }
    shape_t one{1};
    for (std::int64_t dim : gmm->example_shape()) one.push_back(dim);
    const tensor dry_x = randn(one, seed, random_purpose("oracle/prior")) * static_cast<float>(p->prior_std());
    const auto cost = [&](const sampler& s) -> std::int64_t {  // a dry run on one sample counts the whole path
        if (s.evaluations(*p) == 0) return 0;                  // adaptive: its tolerances set the cost, per sample
        method.reset_evaluations();
        sampling_context dry;
        dry.seed = seed;
        method.sample(s, dry_x, dry);
        return method.evaluations();
    };
    const std::optional<config_node> budgeted = sampler_for_budget(builder, written, sample.nfe, cost);
    if (!budgeted) {
        config_node single = written;
        single.set("steps", config_node::scalar("1"));
        throw variant_not_applicable(
            where, fmt::format("sample.nfe = {} is below one step of sampler '{}' with method '{}' ({} evaluations); "
                               "raise sample.nfe",
                               sample.nfe, sample.sampler.type(), opts_.method, cost(*make_sampler(builder, single))));
    }
    const std::unique_ptr<sampler> s = make_sampler(builder, *budgeted);
    const config_node* steps_node = budgeted->find("steps");
    const std::int64_t announced = cost(*s);
    const std::int64_t steps = announced == 0 || !steps_node ? 0 : std::stoll(steps_node->text());

    shape_t shape{count};
    for (std::int64_t dim : gmm->example_shape()) shape.push_back(dim);
    const tensor x_T = randn(shape, seed, random_purpose("oracle/prior")) * static_cast<float>(p->prior_std());
    method.reset_evaluations();
    const tensor samples = sample_in_batches(
        x_T, sample.batch_size, seed, [&](const tensor& x, sampling_context& sc) { return method.sample(*s, x, sc); });
    const std::int64_t calls = (count + sample.batch_size - 1) / sample.batch_size;
    std::int64_t nfe = announced;
    if (announced == 0)  // adaptive: evaluations per sample, on average
        nfe = (method.evaluations() + count / 2) / count;
    else if (method.evaluations() != announced * calls)
        throw error(fmt::format("method '{}' on sampler '{}' cost {} evaluations in a dry run but {} per batch",
                                opts_.method, sample.sampler.type(), announced, method.evaluations() / calls));

    const exact_target& target = method.target();
    evaluation_protocol protocol;
    protocol.samples = count;
    protocol.reference = fmt::format("exact samples of {}", target.description);
    protocol.weights = "none";
    protocol.sampler = *budgeted;
    protocol.nfe = static_cast<double>(nfe);
    protocol.seed = seed;
    const std::string floor_key = fmt::format("oracle_conditioning\n{}\n{}count {} seed {} pairs {}\n{}",
                                              target.description, to_yaml(*experiment.find("data")), count, seed,
                                              opts_.floor_pairs, to_yaml(*experiment.find("evaluate")));
    evaluation_result result = evaluate_against_exact(
        ctx, evaluation, samples,
        [&](std::int64_t set) {
            return batch_of(target.draw(count, static_cast<std::uint64_t>(set * count)), gmm->example_shape());
        },
        protocol, opts_.floor_pairs, floor_key);
    const Eigen::MatrixXd rows = rows_of(samples);
    result.values.emplace_back("mean_error", mean_error(rows, target.mean));
    result.values.emplace_back("covariance_error", covariance_error(rows, target.covariance));
    result.values.emplace_back("steps", static_cast<double>(steps));

    write_metrics_json(ctx.results_dir() / "metrics.json", result);
    write_file_atomically(
        ctx.results_dir() / "report.md",
        fmt::format("# {}\n\nMethod `{}` on sampler `{}`, process `{}`, with the exact denoiser of "
                    "the `gmm` data, against {}.\n{}",
                    ctx.name(), opts_.method, to_flow_yaml(*budgeted), to_flow_yaml(*experiment.find("process")),
                    target.description, metrics_markdown(result)));
}

}  // namespace difflab::plugins
