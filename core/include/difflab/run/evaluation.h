// SPDX-License-Identifier: Apache-2.0
// The `evaluate:` section: metrics computed with the protocol that produced them (metrics.json).
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/params.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace difflab {

class run_context;
class dataset;

/// `evaluate:` — which metrics a run computes and on how much data.
struct evaluation_options {
    std::int64_t count = 0;  ///< samples drawn for the metrics; 0: sample.count
    std::vector<component_ref<metric>> metrics;
    std::string reference_split = "test";  ///< the data's split the samples are compared with
    std::int64_t reference_count = 0;      ///< examples of it used; 0: all

    static param_spec<evaluation_options> params();
};

/// What the harness records beside every metric value, so that a number can be reproduced:
/// "I cannot reproduce the reported FID" is most often a different sample count, reference
/// set, weights, sampler or seed.
struct evaluation_protocol {
    std::int64_t samples = 0;
    std::string reference;  ///< e.g. "fashion_mnist split test, 10000 examples"
    std::string weights;    ///< "ema", "raw" or "none" (an exact denoiser)
    std::int64_t checkpoint_step = -1;
    config_node sampler;             ///< the resolved sampler
    double nfe = 0;                  ///< network evaluations per sample
    std::string precision = "fp32";  ///< of the network while sampling: fp32 or bf16 (sample.precision)
    std::uint64_t seed = 0;
};

/// The values of one evaluation, in metric order, with the protocol (harness and metrics).
struct evaluation_result {
    metric_values values;
    evaluation_protocol protocol;
    std::vector<std::pair<std::string, metric_protocol>> metric_protocols;  ///< per metric type
    double seconds = 0;                                                     ///< spent computing the metrics
};

/// The reference set of `evaluate:`: the experiment's `data` with its `split` set to
/// reference_split (when the data set has splits), its first reference_count examples.
/// `description` receives the protocol's text for it.
metric_inputs load_reference(run_context& ctx, const evaluation_options& options, std::string& description);

/// Builds and computes every metric of `options` on `inputs`. A metric that throws stops the
/// evaluation with an error naming it.
evaluation_result evaluate_metrics(run_context& ctx, const evaluation_options& options, const metric_inputs& inputs,
                                   const evaluation_protocol& protocol);

/// metrics.json: {"values": {...}, "protocol": {...}, "seconds": ...}, written atomically.
void write_metrics_json(const std::filesystem::path& file, const evaluation_result& result);
/// What a metrics.json holds that comparisons read back.
struct recorded_metrics {
    metric_values values;  ///< in the order computed; NaN where the file has null
    double nfe = 0;        ///< network evaluations per sample
};
/// Reads a metrics.json; throws a one-line error on a missing or damaged file.
recorded_metrics read_metrics_json(const std::filesystem::path& file);

/// The markdown of a result for report.md: a table of values and the protocol.
std::string metrics_markdown(const evaluation_result& result);

}  // namespace difflab
