// SPDX-License-Identifier: Apache-2.0
// Scenes with label maps, and uncertainty against mistakes.
#include "scene_scoring.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/metric.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace difflab::plugins {

scene_batch load_scenes(const dataset& data, std::int64_t count, const std::string& which, const std::string& task) {
    if (data.size() < count)
        throw config_error(
            fmt::format("task '{}': {} holds {} scenes, fewer than the {} asked for", task, which, data.size(), count));
    std::vector<std::int64_t> indices(static_cast<std::size_t>(count));
    std::iota(indices.begin(), indices.end(), std::int64_t{0});
    example_batch batch = data.get(indices);
    if (!batch.paired.defined() || batch.paired.dim() != 4 || batch.x.dim() != 4 || batch.paired.size(1) != 1 ||
        batch.paired.size(2) != batch.x.size(2) || batch.paired.size(3) != batch.x.size(3))
        throw config_error(
            fmt::format("task '{}': {} gives no map [N, 1, H, W] paired with each image; use a "
                        "segmentation data set such as fashion_scenes",
                        task, which));
    return {batch.x, batch.paired};
}

double wrong_pixel_auroc(build_context& builder, const tensor& uncertainty, const tensor& predicted,
                         const tensor& truth) {
    const std::vector<float> mine = predicted.contiguous().to_vector(), right = truth.contiguous().to_vector();
    if (mine.size() != right.size() || static_cast<std::int64_t>(mine.size()) != uncertainty.numel())
        throw error(fmt::format("wrong_pixel_auroc: {} uncertainties, {} predictions and {} true values differ",
                                uncertainty.numel(), mine.size(), right.size()));
    std::vector<float> wrong(mine.size());
    for (std::size_t i = 0; i < mine.size(); ++i)
        wrong[i] = std::lround(mine[i]) != std::lround(right[i]) ? 1.0f : 0.0f;
    const auto mistakes = std::count(wrong.begin(), wrong.end(), 1.0f);
    if (mistakes == 0 || mistakes == static_cast<std::ptrdiff_t>(wrong.size()))
        return std::numeric_limits<double>::quiet_NaN();
    const std::unique_ptr<metric> ranking = builder.create(component_ref<metric>("auroc"));
    metric_inputs in;
    in.samples = uncertainty.reshape({uncertainty.numel()});
    in.reference = tensor::from_vector({static_cast<std::int64_t>(wrong.size())}, wrong);
    return ranking->compute(in).front().second;
}

}  // namespace difflab::plugins
