// SPDX-License-Identifier: Apache-2.0
// The 'moving_fashion_mnist' dataset: videos of Fashion-MNIST garments bouncing in a square.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// The positions (row, column) of a garment moving at a constant integer `velocity` (dy, dx)
/// inside [0, limit]^2 for `frames` frames, as the deterministic Moving MNIST of Denton & Fergus
/// 2018 ("Stochastic video generation with a learned prior", edenton/svg data/moving_mnist.py):
/// at each frame the position first bounces (a coordinate below 0 becomes 0 and its velocity
/// component is negated; one above `limit` becomes `limit` and is negated), is then the frame's
/// position, and then moves by the velocity. Every position is within [0, limit] (a `start`
/// outside is moved to the wall at frame 0) and each velocity component keeps its magnitude.
/// The upper wall is `limit` itself (Denton's code clamps one short of it). `limit` >= 0;
/// `frames` <= 0 gives no positions.
std::vector<std::array<std::int64_t, 2>> bouncing_trajectory(std::array<std::int64_t, 2> start,
                                                             std::array<std::int64_t, 2> velocity, std::int64_t frames,
                                                             std::int64_t limit);

/// Moving Fashion-MNIST, the video data of difflab's video task (Ho et al. 2022, "Video
/// diffusion models"; Höppe et al. 2022, "Diffusion models for video prediction and infilling",
/// RaMViD): Srivastava et al. 2015's Moving MNIST with Fashion-MNIST garments (Xiao et al. 2017)
/// for digits, moving as in Denton & Fergus 2018's deterministic version. Sequence i is `frames`
/// gray frames of `canvas` x `canvas` pixels showing 1 to `max_garments` garments, each a
/// Fashion-MNIST image resized bilinearly from 28x28 to `garment_size` x `garment_size`,
/// starting at a uniform position inside the canvas and moving at an integer velocity (dy, dx)
/// with both components in [-max_speed, max_speed], not both 0, bouncing off the walls
/// (bouncing_trajectory). Intensities in [0, 1] (bytes / 255) are summed over the garments and
/// clipped at 1, as Denton's code does, then mapped to [-1, 1] (2v - 1) as the image datasets.
///
/// Garments come from the Fashion-MNIST `split` (train sequences from the training images, test
/// sequences from the test images), loaded once through the registry and resized once, in the
/// constructor. Every choice of sequence i (number of garments, then per garment its image,
/// start (top, left) and velocity) comes from the Philox stream (seed, "moving_fashion_mnist", i),
/// so a sequence depends only on (seed, i). Examples are [1, frames, canvas, canvas]; the label
/// is the class of the first garment; nothing is paired. Drawing spends no denoiser evaluations.
class moving_fashion_mnist_dataset final : public dataset {
public:
    struct options {
        std::string split = "train";
        std::int64_t count = 10000;
        std::int64_t frames = 8;
        std::int64_t canvas = 32;
        std::int64_t garment_size = 16;
        std::int64_t max_garments = 2;
        std::int64_t max_speed = 3;
        std::int64_t seed = -1;
        std::string directory = "/usr/share/datasets/fashion-mnist";
    };
    static param_spec<options> params();
    moving_fashion_mnist_dataset(const options& opts, build_context& ctx);

    std::int64_t size() const override { return opts_.count; }
    shape_t example_shape() const override { return {1, opts_.frames, opts_.canvas, opts_.canvas}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override;

    /// One garment of a sequence as drawn: its image, where it starts and how it moves.
    struct moving_garment {
        std::int64_t source = 0;                 ///< index of the image in the Fashion-MNIST split
        std::int32_t label = 0;                  ///< its class 0..9
        std::array<std::int64_t, 2> start{};     ///< (top, left) at frame 0
        std::array<std::int64_t, 2> velocity{};  ///< (dy, dx) per frame, before any bounce
    };
    /// The garments of sequence `index` in painting order (the first gives the label): the
    /// draws of its Philox stream, for tests and for tasks that want the true motion.
    std::vector<moving_garment> garments(std::int64_t index) const;

private:
    options opts_;
    std::uint64_t seed_ = 0;
    std::int64_t sources_ = 0;           ///< Fashion-MNIST images of the split
    std::vector<std::uint8_t> pixels_;   ///< their garment_size x garment_size bytes
    std::vector<std::int32_t> classes_;  ///< their classes
};

}  // namespace difflab::plugins
