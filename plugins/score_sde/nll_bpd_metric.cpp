// SPDX-License-Identifier: Apache-2.0
// The metric nll_bpd over negative_log_likelihood (Song et al. 2021).
#include "nll_bpd_metric.h"

#include <difflab/base/distributed.h>
#include <difflab/base/error.h>
#include <fmt/format.h>

#include <cmath>

#include "likelihood.h"

namespace difflab::plugins {

param_spec<nll_bpd_metric::options> nll_bpd_metric::params() {
    param_spec<options> spec{
        "Negative log-likelihood of held-out data in bits/dim through the model's probability-flow ODE (Song et al. "
        "2021), with its standard error over the examples."};
    spec.add(&options::count, "count", "Examples: the first rows of the held-out data (0: all of them).",
             at_least<std::int64_t>(0));
    spec.add(&options::probes, "probes", "Hutchinson probes per example (their mean estimates the divergence).",
             at_least<std::int64_t>(1));
    spec.add(&options::probe, "probe", "Probe distribution: rademacher (lower variance) or gaussian.",
             one_of({"rademacher", "gaussian"}));
    spec.add(&options::rtol, "rtol", "Relative tolerance of the Dormand-Prince integration.", greater_than(0.0));
    spec.add(&options::atol, "atol", "Absolute tolerance of the Dormand-Prince integration.", greater_than(0.0));
    spec.add(&options::dequantize, "dequantize",
             "The data are 8-bit images: dequantize uniformly and add 7 bits/dim (false: continuous data).");
    spec.add(&options::divergence, "divergence",
             "How the divergence is estimated: autograd, finite_difference, or auto (autograd when possible).",
             one_of({"auto", "autograd", "finite_difference"}));
    spec.add(&options::batch_size, "batch_size",
             "Examples integrated together as one ODE state with one error norm, as score_sde does: faster, but "
             "each value then depends on its batch within the tolerances (1: each alone).",
             at_least<std::int64_t>(1));
    return spec;
}

nll_bpd_metric::nll_bpd_metric(const options& opts, build_context&) : opts_(opts) {}

std::vector<double> nll_bpd_metric::per_example(const metric_inputs& in) {
    if (in.model == nullptr)
        throw error(
            "nll_bpd: nll_bpd needs the trained model; it is computed by the harness of a run, not on "
            "samples");
    if (!in.reference.defined() || in.reference.dim() < 1 || in.reference.size(0) == 0)
        throw error(
            "nll_bpd: no reference given; reference must hold the held-out data [N, ...] to measure "
            "the likelihood of");
    const std::int64_t available = in.reference.size(0);
    if (opts_.count > available)
        throw error(fmt::format("nll_bpd: count {} but the reference holds {} examples; lower count, or set 0 "
                                 "for all of them",
                                opts_.count, available));
    const std::int64_t count = opts_.count == 0 ? available : opts_.count;

    likelihood_options lo;
    lo.probe = opts_.probe;
    lo.probes = opts_.probes;
    lo.rtol = opts_.rtol;
    lo.atol = opts_.atol;
    lo.dequantize = opts_.dequantize;
    lo.divergence = opts_.divergence;
    lo.batch_size = opts_.batch_size;
    lo.seed = in.seed;
    // The ranks of an MPI job integrate contiguous shares of whole batches, each keyed by its
    // examples' indices, and every rank receives all the values: those of one process.
    const distributed::share_range mine = distributed::share(count, opts_.batch_size);
    lo.first_index = static_cast<std::uint64_t>(mine.begin);
    std::vector<double> bits;
    if (mine.size() > 0)
        bits = negative_log_likelihood(*in.model, in.reference.slice(0, mine.begin, mine.end).contiguous(), lo)
                   .bits_per_dim;
    return distributed::gather_all(bits);
}

metric_values nll_bpd_metric::compute(const metric_inputs& in) {
    const std::vector<double> bits = per_example(in);
    const double n = static_cast<double>(bits.size());
    double mean = 0;
    for (double b : bits) mean += b / n;
    double square = 0;
    for (double b : bits) square += (b - mean) * (b - mean);
    const double stderr_of_mean = n > 1 ? std::sqrt(square / (n - 1) / n) : 0.0;
    return {{"nll_bpd", mean}, {"nll_bpd_stderr", stderr_of_mean}};
}

metric_protocol nll_bpd_metric::protocol() const {
    return {{"probes", std::to_string(opts_.probes)},
            {"probe", opts_.probe},
            {"rtol", fmt::format("{}", opts_.rtol)},
            {"atol", fmt::format("{}", opts_.atol)},
            {"dequantize", opts_.dequantize ? "true" : "false"},
            {"count", std::to_string(opts_.count)},
            {"batch_size", std::to_string(opts_.batch_size)}};
}

}  // namespace difflab::plugins
