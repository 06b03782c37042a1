// SPDX-License-Identifier: Apache-2.0
// The 'oracle_sampling' task: one sampler x process x NFE cell on a Gaussian-mixture oracle.
#include "oracle_sampling_task.h"

#include <difflab/base/error.h>
#include <difflab/base/log.h>
#include <difflab/diffusion/process.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/io/atomic_file.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/task_flow.h>
#include <difflab/run/training.h>
#include <difflab/run/variants.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>

#include "exact_gmm_denoiser.h"
#include "gmm_dataset.h"
#include "oracle_evaluation.h"
#include "sample_statistics.h"

namespace difflab::plugins {

namespace {

/// Runs `s` over x_T in batches; row i keeps its noise stream whatever the batch size.
tensor sample_rows(const sampler& s, const denoiser& d, const tensor& x_T, std::int64_t batch_size,
                   std::uint64_t seed) {
    return sample_in_batches(x_T, batch_size, seed,
                             [&](const tensor& x, sampling_context& ctx) { return s.sample(d, x, ctx); });
}

/// Examples [first, first + count) of the data set.
tensor examples(const dataset& data, std::int64_t first, std::int64_t count) {
    std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
    std::iota(indices.begin(), indices.end(), first);
    return data.get(indices).x;
}

std::unique_ptr<sampler> make_sampler(build_context& builder, const config_node& resolved) {
    return std::unique_ptr<sampler>(static_cast<sampler*>(builder.create("sampler", resolved).release()));
}

/// What a grid would otherwise recompute for every variant: the exact ODE solutions per process
/// (and data, seed, rows, tolerance). Keyed by the YAML of what determines them; lives as long
/// as the `difflab` process.
std::mutex cache_mutex;
std::map<std::string, Eigen::MatrixXd> ode_solutions;

}  // namespace

param_spec<oracle_sampling_task::options> oracle_sampling_task::params() {
    param_spec<options> spec{
        "One sampler (sample.sampler at sample.nfe) on one process, driven by the exact denoiser of the `gmm` data: "
        "the metrics of `evaluate:` against exact data samples with their floor, moment errors and the error to the "
        "exact ODE solution, in metrics.json. A grid over process x sampler x sample.nfe compares samplers."};
    spec.add(&options::reference_count, "reference_count",
             "Samples compared with the exact ODE solution (deterministic samplers; 0 skips).",
             at_least<std::int64_t>(0));
    spec.add(&options::reference_tolerance, "reference_tolerance",
             "rtol = atol of the rk45 reference solution of the probability-flow ODE.", greater_than(0.0));
    spec.add(&options::floor_pairs, "floor_pairs",
             "Pairs of independent exact sample sets whose metric values, averaged, are each metric's floor.",
             at_least<std::int64_t>(1));
    return spec;
}

oracle_sampling_task::oracle_sampling_task(const options& opts, build_context&) : opts_(opts) {}

void oracle_sampling_task::run(run_context& ctx) {
    refuse_non_gaussian_noise(ctx, "oracle_sampling");
    const config_node& experiment = ctx.experiment();
    const registry& components = ctx.builder().components();
    const parse_context parsing(&components);
    const auto sample = ctx.options<sampling_options>("sample");
    const auto evaluation = ctx.options<evaluation_options>("evaluate");
    const std::unique_ptr<dataset> data = ctx.build<dataset>("data");
    const auto* gmm = dynamic_cast<const gmm_dataset*>(data.get());
    if (!gmm)
        throw config_error(experiment.find("data")->mark(),
                           "task 'oracle_sampling' needs `data: {type: gmm, ...}`, whose exact denoiser it uses");
    const std::unique_ptr<process> p = ctx.build<process>("process");
    build_context& builder = ctx.builder();
    const gaussian_mixture& mixture = gmm->mixture();
    const std::uint64_t seed = ctx.seed();
    const std::int64_t count = evaluation.count > 0 ? evaluation.count : sample.count;

    // The combination first: a refusal or an unaffordable budget comes before any work.
    const sample_sampler built = build_sample_sampler(builder, sample, *p, experiment.find("sample")->mark());
    const sampler* s = built.method.get();
    const config_node* steps_node = built.node.find("steps");
    const bool adaptive = s->evaluations(*p) == 0;
    const std::int64_t steps = adaptive || !steps_node ? 0 : std::stoll(steps_node->text());

    shape_t shape{count};
    for (std::int64_t dim : gmm->example_shape()) shape.push_back(dim);
    const tensor x_T = randn(shape, seed, random_purpose("oracle/prior")) * static_cast<float>(p->prior_std());
    const exact_gmm_denoiser d(*p, mixture);
    d.reset_evaluations();
    const tensor samples = sample_rows(*s, d, x_T, sample.batch_size, seed);
    const std::int64_t calls = (count + sample.batch_size - 1) / sample.batch_size;
    std::int64_t nfe = s->evaluations(*p);
    if (adaptive)  // evaluations per sample, on average (rk45 integrates row by row)
        nfe = (d.evaluations() + count / 2) / count;
    else if (d.evaluations() != nfe * calls)
        throw error(fmt::format("sampler '{}' announced {} evaluations per run but spent {}", sample.sampler.type(),
                                nfe, d.evaluations() / calls));

    evaluation_protocol protocol;
    protocol.samples = count;
    protocol.reference = fmt::format("gmm exact samples, examples 0..{}", count - 1);
    protocol.weights = "none";
    protocol.sampler = built.node;
    protocol.nfe = static_cast<double>(nfe);
    protocol.seed = seed;
    // Exact set 0 is the reference, sets 1, 2, ... the floor's pairs: disjoint runs of examples.
    const std::string data_key = to_yaml(*experiment.find("data")) + fmt::format("count {} seed {}\n", count, seed);
    const std::string floor_key =
        data_key + to_yaml(*experiment.find("evaluate")) + fmt::format("pairs {}\n", opts_.floor_pairs);
    evaluation_result result = evaluate_against_exact(
        ctx, evaluation, samples, [&](std::int64_t set) { return examples(*data, set * count, count); }, protocol,
        opts_.floor_pairs, floor_key);

    const Eigen::MatrixXd rows = rows_of(samples);
    result.values.emplace_back("mean_error", mean_error(rows, mixture.mean()));
    result.values.emplace_back("covariance_error", covariance_error(rows, mixture.covariance()));
    const std::int64_t reference_rows = std::min(opts_.reference_count, count);
    if (s->deterministic() && reference_rows > 0) {
        const std::string ode_key = data_key + to_yaml(*experiment.find("process")) +
                                    fmt::format("rows {} tolerance {:g}\n", reference_rows, opts_.reference_tolerance);
        std::optional<Eigen::MatrixXd> solution;
        {
            const std::lock_guard<std::mutex> lock(cache_mutex);
            const auto found = ode_solutions.find(ode_key);
            if (found != ode_solutions.end()) solution = found->second;
        }
        if (!solution) {
            if (!components.find("sampler", "ode"))
                throw config_error(
                    "task 'oracle_sampling' needs sampler 'ode' (plugin score_sde) for its ODE reference; load "
                    "it, or set task.reference_count: 0");
            config_node node = config_node::map();
            node.set("type", config_node::scalar("ode"));
            node.set("method", config_node::scalar("rk45"));
            node.set("rtol", config_node::scalar(fmt::format("{:g}", opts_.reference_tolerance)));
            node.set("atol", config_node::scalar(fmt::format("{:g}", opts_.reference_tolerance)));
            const auto solver = make_sampler(builder, components.resolve("sampler", node, parsing));
            log_info("oracle_sampling: the exact ODE solution for this process, {} rows", reference_rows);
            solution =
                rows_of(sample_rows(*solver, d, x_T.slice(0, 0, reference_rows).contiguous(), sample.batch_size, seed));
            const std::lock_guard<std::mutex> lock(cache_mutex);
            ode_solutions[ode_key] = *solution;
        }
        result.values.emplace_back("ode_error", rms_difference(rows.topRows(reference_rows), *solution));
    }
    result.values.emplace_back("steps", static_cast<double>(steps));

    write_metrics_json(ctx.results_dir() / "metrics.json", result);
    write_file_atomically(ctx.results_dir() / "report.md",
                          fmt::format("# {}\n\nSampler `{}` on process `{}` with the exact denoiser of the `gmm` "
                                      "data.\n{}",
                                      ctx.name(), to_flow_yaml(built.node), to_flow_yaml(*experiment.find("process")),
                                      metrics_markdown(result)));
}

}  // namespace difflab::plugins
