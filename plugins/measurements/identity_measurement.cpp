// SPDX-License-Identifier: Apache-2.0
// The 'identity' measurement.
#include "identity_measurement.h"

#include <difflab/plugin/params.h>

#include <cstddef>
#include <vector>

#include "measurement_common.h"

namespace difflab::plugins {

param_spec<identity_measurement::options> identity_measurement::params() {
    param_spec<options> spec{
        "The identity H = I with Gaussian measurement noise: denoising (Kawar et al. 2022, DDRM)."};
    add_noise_std(spec);
    return spec;
}

identity_measurement::identity_measurement(const options& opts, build_context&) : opts_(opts) {}

measurement::binding identity_measurement::prepare(const shape_t& example_shape) {
    return {example_shape, std::vector<double>(static_cast<std::size_t>(shape_numel(example_shape)), 1.0)};
}

}  // namespace difflab::plugins
