// SPDX-License-Identifier: Apache-2.0
// Sampling in batches and metrics against exact samples, for the oracle tasks.
#include "oracle_evaluation.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

namespace difflab::plugins {

namespace {

std::mutex floor_mutex;
std::map<std::string, metric_values> floors;

}  // namespace

Eigen::MatrixXd rows_of(const tensor& batch) {
    const std::vector<float> values = batch.contiguous().to_vector();
    const Eigen::Index n = batch.size(0), d = static_cast<Eigen::Index>(values.size()) / std::max<Eigen::Index>(n, 1);
    return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(values.data(), n, d)
        .cast<double>();
}

tensor batch_of(const Eigen::MatrixXd& rows, const shape_t& example_shape) {
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> values = rows.cast<float>();
    shape_t shape{rows.rows()};
    shape.insert(shape.end(), example_shape.begin(), example_shape.end());
    return tensor::from_vector(shape, std::vector<float>(values.data(), values.data() + values.size()));
}

tensor sample_in_batches(const tensor& x_T, std::int64_t batch_size, std::uint64_t seed,
                         const std::function<tensor(const tensor& x, sampling_context& ctx)>& draw) {
    std::vector<tensor> parts;
    for (std::int64_t begin = 0; begin < x_T.size(0); begin += batch_size) {
        const std::int64_t end = std::min(x_T.size(0), begin + batch_size);
        sampling_context ctx;
        ctx.seed = seed;
        ctx.first_index = static_cast<std::uint64_t>(begin);
        parts.push_back(draw(x_T.slice(0, begin, end).contiguous(), ctx));
    }
    return parts.size() == 1 ? parts.front() : concat(parts, 0);
}

evaluation_result evaluate_against_exact(run_context& ctx, const evaluation_options& evaluation, const tensor& samples,
                                         const std::function<tensor(std::int64_t set)>& exact,
                                         const evaluation_protocol& protocol, std::int64_t floor_pairs,
                                         const std::string& floor_key) {
    metric_inputs inputs;
    inputs.samples = samples;
    inputs.reference = exact(0);
    inputs.seed = protocol.seed;
    evaluation_result result = evaluate_metrics(ctx, evaluation, inputs, protocol);

    metric_values floor;
    {
        const std::lock_guard<std::mutex> lock(floor_mutex);
        const auto found = floors.find(floor_key);
        if (found != floors.end()) floor = found->second;
    }
    if (floor.empty() && !result.values.empty()) {
        for (std::int64_t k = 0; k < floor_pairs; ++k) {
            metric_inputs pair;
            pair.samples = exact(1 + 2 * k);
            pair.reference = exact(2 + 2 * k);
            pair.seed = protocol.seed;
            const evaluation_result r = evaluate_metrics(ctx, evaluation, pair, protocol);
            if (floor.empty())
                for (const auto& [name, value] : r.values) floor.emplace_back(name + "_floor", 0.0);
            for (std::size_t i = 0; i < r.values.size(); ++i)
                floor[i].second += r.values[i].second / static_cast<double>(floor_pairs);
        }
        const std::lock_guard<std::mutex> lock(floor_mutex);
        floors[floor_key] = floor;
    }
    for (const auto& value : floor) result.values.push_back(value);
    return result;
}

void refuse_non_gaussian_noise(const run_context& ctx, const std::string& task) {
    const config_node* noise = ctx.experiment().find("noise");
    const config_node* type = noise && noise->is_map() ? noise->find("type") : nullptr;
    if (!type || type->text() == "gaussian") return;
    throw config_error(type->mark(),
                       fmt::format("task '{}' measures samplers against exact denoisers of Gaussian noise, not noise "
                                   "'{}'; remove the `noise:` section or set noise.type: gaussian",
                                   task, type->text()));
}

}  // namespace difflab::plugins
