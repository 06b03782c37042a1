// SPDX-License-Identifier: Apache-2.0
// Reconstruction from partial diffusion: what reconstruction-based detectors compare images with.
#pragma once

#include <difflab/run/task_flow.h>
#include <difflab/tensor/tensor.h>

#include <string>

namespace difflab::plugins {

/// The reconstructions x_hat of `images` (one per row of the flow's samples, sample_count() of
/// them): each image noised to time `t_start` with the experiment's noise (noised_start, keyed per
/// image) and denoised by sample.sampler along its own grid from there (Wyatt et al. 2022;
/// Graham et al. 2023), through task_flow::draw_samples, which saves and reports them.
tensor reconstruct(task_flow& flow, const tensor& images, double t_start);

/// Throws a config_error naming `task` when a start is outside (t_min, t_max] of the process.
void check_starts(const process& p, const std::vector<double>& starts, const std::string& task);

}  // namespace difflab::plugins
