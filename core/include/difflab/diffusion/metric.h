// SPDX-License-Identifier: Apache-2.0
// The 'metric' component kind: numbers from samples, references and models.
#pragma once

#include <difflab/diffusion/denoiser.h>
#include <difflab/plugin/component.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace difflab {

/// What a metric is computed from. The harness fills what the task has; each metric reads
/// the fields it needs and throws a difflab::error naming a missing one. Images are in the
/// data range [-1, 1].
struct metric_inputs {
    /// Generated samples [N, ...] (generation); predictions paired row by row with
    /// `reference` (super-resolution, inpainting); scores [N] (anomaly detection); predicted
    /// masks (segmentation).
    tensor samples;
    /// The class each sample was generated for [N] (class-conditional generation), else undefined.
    tensor sample_labels;
    /// Held-out data (FID's reference set, the data an NLL is measured on), the targets paired
    /// with `samples`, or ground truth (binary labels [N] for auroc, masks for dice).
    tensor reference;
    /// Class labels of `reference` [N] where the data set has them, else undefined.
    tensor reference_labels;
    /// The trained model, for metrics of the model rather than of samples (nll_bpd); nullptr
    /// when the run has none.
    const denoiser* model = nullptr;
    /// Key of any randomness a metric draws (projections, probes, dequantization).
    std::uint64_t seed = 0;
};

/// Named values in the order a metric reports them ("precision", then "recall").
using metric_values = std::vector<std::pair<std::string, double>>;

/// A metric's part of the protocol: settings that determine its values besides the harness's
/// (feature network and its SHA-256, projections, probes, ...), as (key, value) text.
using metric_protocol = std::vector<std::pair<std::string, std::string>>;

/// Numbers from samples and references (FID, PSNR, NLL, ...). A metric may give several
/// values (precision_recall gives precision and recall); each value's name is what `expect:`
/// claims and report columns refer to.
class metric : public component {
public:
    static constexpr const char* kind_name = "metric";
    using kind_type = metric;

    /// The values for `in`; throws difflab::error when an input it needs is missing or misshapen.
    virtual metric_values compute(const metric_inputs& in) = 0;

    /// For a metric that is a mean over examples (nll_bpd): the value of each example, in
    /// order, for callers that rank examples by it (the likelihood baseline of
    /// out-of-distribution detection). The default throws difflab::error: most metrics
    /// (FID, precision and recall) are not means of per-example values.
    virtual std::vector<double> per_example(const metric_inputs& in);

    /// Settings that determine the values besides the harness's (sample count, reference
    /// split, weights, sampler, NFE and seed, which the harness records itself).
    virtual metric_protocol protocol() const { return {}; }
};

}  // namespace difflab
