// SPDX-License-Identifier: Apache-2.0
// Reconstruction from partial diffusion.
#include "partial_diffusion.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/sampling_path.h>
#include <fmt/format.h>

#include <memory>

namespace difflab::plugins {

tensor reconstruct(task_flow& flow, const tensor& images, double t_start) {
    const process& p = flow.diffusion();
    return flow.draw_samples(
        [&](std::int64_t first, std::int64_t n, const sampling_context& context, const sampler& method) {
            return task_flow::conditioned_batch{
                {flow.network_model(), 1},
                std::make_shared<sampling_path>(descent(method.times(p, t_start))),
                {},
                noised_start(p, images.slice(0, first, first + n).contiguous(), t_start, context),
                nullptr};
        },
        fmt::format(", reconstructing from t_start = {}", t_start));
}

void check_starts(const process& p, const std::vector<double>& starts, const std::string& task) {
    if (starts.empty())
        throw config_error(
            fmt::format("task '{}': t_start is empty; give at least one time, e.g. t_start: [0.2]", task));
    for (double t : starts)
        if (t <= p.t_min() || t > p.t_max())
            throw config_error(
                fmt::format("task '{}': t_start {} is outside (t_min, t_max] = ({}, {}]; give times in "
                            "that interval",
                            task, t, p.t_min(), p.t_max()));
}

}  // namespace difflab::plugins
