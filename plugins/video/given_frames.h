// SPDX-License-Identifier: Apache-2.0
// Which frames of a video are given: at sampling (prediction, infilling), in RaMViD's training, and kept clean.
#pragma once

#include <difflab/diffusion/constraint.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/tensor/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// The frames a video task is given, in order: `prediction` the first `given` (Höppe et al.
/// 2022, RaMViD; Ho et al. 2022), `infilling` the first ceil(given / 2) and the last
/// floor(given / 2) (frames on both sides of the gap), `generation` none. Throws a config_error
/// when `given` does not leave a frame to generate.
std::vector<std::int64_t> given_frames(const std::string& mode, std::int64_t frames, std::int64_t given);

/// The frames not in `given`, in order: those a video task generates and scores.
std::vector<std::int64_t> generated_frames(std::int64_t frames, const std::vector<std::int64_t>& given);

/// condition::clean_mask for `n` videos of `frames` frames with the same frames given:
/// [n, 1, frames, 1, 1], 1 on the given frames.
tensor frame_mask(std::int64_t n, std::int64_t frames, const std::vector<std::int64_t>& given);

/// RaMViD's training draw (Höppe et al. 2022, section 3): for the examples at data-stream
/// positions first_position .. first_position + n - 1, with probability `uncondition_rate` no
/// frame is given (the unconditional case that lets one model also generate), else a number
/// c uniform in 1..max_given and then c distinct frames uniformly at random, so one model learns
/// prediction, infilling and any other pattern. Example p draws from the Philox stream (seed,
/// "video/given_frames", p) alone: the same frames whatever the batch, the rank or a resume.
/// Returns the clean mask [n, 1, frames, 1, 1].
tensor draw_training_frames(std::int64_t n, std::int64_t frames, std::uint64_t first_position, std::uint64_t seed,
                            double uncondition_rate, std::int64_t max_given);

/// RaMViD's conditioning at sampling: the given part of every state set to the clean data,
/// x' = x + H^+ (y - H x), for a measurement H that observes whole frames (mask with
/// observed_frames, so H^+ H is the 0/1 frame mask). The model was trained with those frames
/// clean at every noise level (draw_training_frames with condition::clean_mask); replacement
/// that noises them to the state's level is core measurement_replacement.
class clean_replacement final : public state_constraint {
public:
    /// `y` = H x0: one measurement per sample of the batches this will see, H bound to their shape.
    clean_replacement(const measurement& h, tensor y);

    tensor apply(const tensor& x, double t, std::uint64_t index, const sampling_context& ctx) const override;

private:
    const measurement& h_;
    tensor known_;  ///< H^+ y: the given frames, zero elsewhere
};

}  // namespace difflab::plugins
