// SPDX-License-Identifier: Apache-2.0
// Test support of the restoration tasks: a tiny experiment around a task, run and read.
#pragma once

#include <difflab/testing/task_testing.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <optional>
#include <string>

namespace difflab::plugins::tiny_restoration {

/// A U-Net trained for two steps on Fashion-MNIST test images (it knows nothing; `extra_channels`
/// 1 gives it SR3's conditioning channel), restoring the first 6 with `sampler`.
inline std::string experiment(const std::string& task, const std::string& sampler, int extra_channels = 0) {
    return "name: tiny\nseed: 3\ndata: {type: fashion_mnist, split: test, limit: 16}\n"
           "process: {type: ddpm, schedule: linear, steps: 100}\n"
           "network: {type: unet, channels: 8, channel_mult: [1, 2], num_res_blocks: 1, groups: 4, "
           "extra_in_channels: " +
           std::to_string(extra_channels) +
           "}\ntrain: {steps: 2, batch_size: 4, checkpoint_every: 2}\nsample: {sampler: " + sampler +
           ", count: 6, batch_size: 4, columns: 3, trajectory: 0}\nevaluate: {count: 6, metrics: [psnr]}\n" +
           "task: " + task + "\n";
}

/// A value the run wrote to metrics.json; fails the test when it is not there.
inline double metric_value(const std::filesystem::path& run, const std::string& name) {
    const std::optional<double> value = testing::metric_of(run, name);
    REQUIRE_MESSAGE(value.has_value(), "no metric " << name);
    return *value;
}

}  // namespace difflab::plugins::tiny_restoration
