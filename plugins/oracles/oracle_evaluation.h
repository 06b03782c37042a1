// SPDX-License-Identifier: Apache-2.0
// What the oracle tasks share: sampling in batches, and metrics against exact samples with their floor.
#pragma once

#include <difflab/diffusion/sampler.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/task.h>
#include <difflab/tensor/tensor.h>

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <string>

namespace difflab::plugins {

/// Rows of a batch of examples as an N x D matrix.
Eigen::MatrixXd rows_of(const tensor& batch);

/// Rows of an N x D matrix as a batch of examples of `example_shape`.
tensor batch_of(const Eigen::MatrixXd& rows, const shape_t& example_shape);

/// Runs `draw` over x_T in batches of `batch_size`: draw(x, ctx) gets rows [begin, end) and a
/// context with `seed` and first_index = begin, so row i keeps its noise whatever the batch
/// size. The results, concatenated.
tensor sample_in_batches(const tensor& x_T, std::int64_t batch_size, std::uint64_t seed,
                         const std::function<tensor(const tensor& x, sampling_context& ctx)>& draw);

/// The metrics of `evaluation` between `samples` and exact set 0 (`exact(0)`, as many samples),
/// followed by each metric's floor `<value>_floor`: its value between `floor_pairs` pairs of
/// independent exact sets (1 and 2, 3 and 4, ...), averaged, what a perfect sampler scores at
/// this sample size. W2 between finite samples of a multimodal law swings with how many land
/// in each mode, so one pair is not enough. Floors are kept under `floor_key` (the YAML of what
/// determines them) for the life of the process, so a grid computes each once.
evaluation_result evaluate_against_exact(run_context& ctx, const evaluation_options& evaluation, const tensor& samples,
                                         const std::function<tensor(std::int64_t set)>& exact,
                                         const evaluation_protocol& protocol, std::int64_t floor_pairs,
                                         const std::string& floor_key);

/// Throws a config_error at the experiment's `noise.type` when it names a noise other than
/// gaussian: the exact denoisers of the oracle tasks are exact for Gaussian noise only, so
/// another kind would be measured against the wrong answer.
void refuse_non_gaussian_noise(const run_context& ctx, const std::string& task);

}  // namespace difflab::plugins
