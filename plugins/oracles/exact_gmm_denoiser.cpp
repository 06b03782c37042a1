// SPDX-License-Identifier: Apache-2.0
// The exact denoiser of Gaussian-mixture data.
#include "exact_gmm_denoiser.h"

#include <difflab/base/error.h>
#include <fmt/format.h>

namespace difflab::plugins {

tensor exact_gmm_denoiser::denoise(const tensor& x, double t) const {
    const std::int64_t d = mixture_.dimension();
    if (x.dim() < 1 || x.numel() != x.size(0) * d)
        throw error(fmt::format("exact_gmm: input {} does not hold examples of {} values", shape_text(x.shape()), d));
    const tensor dense = x.contiguous();
    const std::vector<float> values = dense.to_vector();
    const Eigen::MatrixXd columns = Eigen::Map<const Eigen::MatrixXf>(values.data(), d, x.size(0)).cast<double>();
    const Eigen::MatrixXf mean =
        mixture_.posterior_mean(columns, diffusion_process().alpha(t), diffusion_process().sigma(t)).cast<float>();
    return tensor::from_vector(x.shape(), std::vector<float>(mean.data(), mean.data() + mean.size()));
}

}  // namespace difflab::plugins
