// SPDX-License-Identifier: Apache-2.0
// The metric nll_bpd: negative log-likelihood of held-out data in bits/dim via the PF-ODE.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Negative log-likelihood in bits per dimension of held-out data under the trained model's
/// probability-flow ODE (Song et al. 2021, "Score-based generative modeling through stochastic
/// differential equations", sec. 4.3 and appendix D.2; see negative_log_likelihood in
/// likelihood.h). It reads the model (in.model) and the data (in.reference: the first `count`
/// rows), not samples. Values "nll_bpd", the mean over the examples, and "nll_bpd_stderr", the
/// standard error of that mean (sample standard deviation over examples / sqrt(count): it
/// covers the spread of the data and the Hutchinson and dequantization noise alike; 0 for a
/// single example).
///
/// With `dequantize` (the default) the data are 8-bit images stored as 2 k / 255 - 1, as image
/// data sets give them: each value is spread uniformly over its bin and 7 bits/dim are added,
/// an upper bound on the discrete NLL that papers report (Ho et al. 2020 table 2; Song et al.
/// 2021 table 2). Turn it off for continuous data (toy 2-D sets, Gaussian mixtures): then it is
/// the NLL of the continuous density at t_min. Probes and dequantization noise are keyed by the
/// harness's seed and the row index, so a row's value does not depend on `count`.
///
/// `batch_size` > 1 integrates that many examples as one ODE state with one error norm, as
/// score_sde does: several times faster per example, each value then moving with its batch
/// companions within the tolerances (see likelihood_options).
///
/// Evaluations: per example 2 + 6 per attempted Dormand-Prince step (times 1 + 2 probes with the
/// finite-difference divergence), not known beforehand.
class nll_bpd_metric final : public metric {
public:
    struct options {
        std::int64_t count = 256;
        std::int64_t probes = 1;
        std::string probe = "rademacher";
        double rtol = 1e-5;
        double atol = 1e-5;
        bool dequantize = true;
        std::string divergence = "auto";
        std::int64_t batch_size = 1;
    };
    static param_spec<options> params();
    nll_bpd_metric(const options& opts, build_context& ctx);

    metric_values compute(const metric_inputs& in) override;
    /// Each example's NLL in bits/dim (the values compute averages).
    std::vector<double> per_example(const metric_inputs& in) override;
    metric_protocol protocol() const override;

private:
    options opts_;
};

}  // namespace difflab::plugins
