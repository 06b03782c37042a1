// SPDX-License-Identifier: Apache-2.0
// Which frames of a video are given, and the constraint that keeps them clean.
#include "given_frames.h"

#include <difflab/base/error.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <fmt/format.h>

#include <algorithm>

namespace difflab::plugins {

std::vector<std::int64_t> given_frames(const std::string& mode, std::int64_t frames, std::int64_t given) {
    if (mode == "generation") return {};
    if (given < 1 || given >= frames)
        throw config_error(
            fmt::format("video: {} needs 1 to {} given frames of the {} (at least one to generate), got given: {}; "
                        "set task.given in that range",
                        mode, frames - 1, frames, given));
    std::vector<std::int64_t> out;
    if (mode == "prediction") {
        for (std::int64_t f = 0; f < given; ++f) out.push_back(f);
        return out;
    }
    if (mode != "infilling")
        throw config_error(fmt::format("video: unknown mode '{}'; use prediction, infilling or generation", mode));
    const std::int64_t before = (given + 1) / 2, after = given / 2;
    for (std::int64_t f = 0; f < before; ++f) out.push_back(f);
    for (std::int64_t f = frames - after; f < frames; ++f) out.push_back(f);
    return out;
}

std::vector<std::int64_t> generated_frames(std::int64_t frames, const std::vector<std::int64_t>& given) {
    std::vector<std::int64_t> out;
    for (std::int64_t f = 0; f < frames; ++f)
        if (std::find(given.begin(), given.end(), f) == given.end()) out.push_back(f);
    return out;
}

tensor frame_mask(std::int64_t n, std::int64_t frames, const std::vector<std::int64_t>& given) {
    std::vector<float> mask(static_cast<std::size_t>(n * frames), 0.0f);
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t f : given) mask[static_cast<std::size_t>(i * frames + f)] = 1.0f;
    return tensor::from_vector({n, 1, frames, 1, 1}, mask);
}

tensor draw_training_frames(std::int64_t n, std::int64_t frames, std::uint64_t first_position, std::uint64_t seed,
                            double uncondition_rate, std::int64_t max_given) {
    std::vector<float> mask(static_cast<std::size_t>(n * frames), 0.0f);
    for (std::int64_t i = 0; i < n; ++i) {
        philox_stream stream(seed, random_purpose("video/given_frames"),
                             first_position + static_cast<std::uint64_t>(i));
        float u = 0;
        stream.uniform(&u, 1);
        if (u < uncondition_rate) continue;
        const auto count = 1 + static_cast<std::int64_t>(stream.integer(static_cast<std::uint64_t>(max_given)));
        const std::vector<std::int64_t> order = stream.permutation(frames);
        for (std::int64_t k = 0; k < count; ++k)
            mask[static_cast<std::size_t>(i * frames + order[static_cast<std::size_t>(k)])] = 1.0f;
    }
    return tensor::from_vector({n, 1, frames, 1, 1}, mask);
}

clean_replacement::clean_replacement(const measurement& h, tensor y) : h_(h), known_(h.pseudo_inverse(y)) {}

tensor clean_replacement::apply(const tensor& x, double, std::uint64_t, const sampling_context&) const {
    // x + H^+ (y - H x) with H^+ H the frame mask: the given frames become y's, the rest stay.
    return x - h_.pseudo_inverse(h_.apply(x)) + known_;
}

}  // namespace difflab::plugins
