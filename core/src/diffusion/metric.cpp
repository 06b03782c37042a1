// SPDX-License-Identifier: Apache-2.0
// The 'metric' component kind: the default of per_example.
#include <difflab/base/error.h>
#include <difflab/diffusion/metric.h>

namespace difflab {

std::vector<double> metric::per_example(const metric_inputs&) {
    throw error(
        "metric: this metric gives one value for the whole set, not one per example; use a metric that is a mean over "
        "examples (nll_bpd)");
}

}  // namespace difflab
