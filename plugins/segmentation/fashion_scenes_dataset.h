// SPDX-License-Identifier: Apache-2.0
// The 'fashion_scenes' dataset: Fashion-MNIST garments composed into segmentation scenes.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Segmentation scenes from real images, for the survey's segmentation methods (Baranchuk et al.
/// 2022, label-efficient segmentation from diffusion features; Wolleb et al. 2022, segmentation
/// ensembles): scene i is a `canvas` x `canvas` gray image over a low-contrast background (a
/// Fashion-MNIST image resized to the canvas, its intensity times `background_contrast`) with 1
/// to `max_garments` Fashion-MNIST garments resized to `min_size`..`max_size` pixels at random
/// positions, painted in order so that later ones occlude earlier ones; a garment pixel brighter
/// than `threshold` is painted and labelled 1 + its class, everything else is background 0
/// (paint_scene). `labels: binary` keeps only foreground 1 against background 0. Garments and
/// backgrounds come from the Fashion-MNIST `split` (train scenes from the training images, test
/// scenes from the test images); every choice of scene i (background image, number, images,
/// sizes and positions of its garments) comes from the Philox stream (seed, "fashion_scenes", i),
/// so a scene depends only on (seed, i). There are `count` scenes.
///
/// `example: image` gives x = the image [1, canvas, canvas] in [-1, 1] and `paired` = the label
/// map (class ids as floats), for feature-based segmentation; `example: mask` gives x = the
/// binary foreground mask in {0, 1} (the values Wolleb et al.'s code keeps) and `paired` = the
/// image, for a diffusion model of masks conditioned on images. No class labels per example.
class fashion_scenes_dataset final : public dataset {
public:
    struct options {
        std::string split = "train";
        std::int64_t count = 10000;
        std::int64_t canvas = 32;
        std::int64_t max_garments = 3;
        std::int64_t min_size = 12;
        std::int64_t max_size = 20;
        std::int64_t threshold = 64;
        double background_contrast = 0.25;
        std::string labels = "classes";
        std::string example = "image";
        std::int64_t seed = -1;
        std::string directory = "/usr/share/datasets/fashion-mnist";
    };
    static param_spec<options> params();
    fashion_scenes_dataset(const options& opts, build_context& ctx);

    std::int64_t size() const override { return opts_.count; }
    shape_t example_shape() const override { return {1, opts_.canvas, opts_.canvas}; }
    example_batch get(const std::vector<std::int64_t>& indices) const override;

private:
    options opts_;
    std::uint64_t seed_ = 0;
    std::int64_t sources_ = 0;           ///< Fashion-MNIST images of the split
    std::vector<std::uint8_t> pixels_;   ///< their 28 x 28 bytes
    std::vector<std::int32_t> classes_;  ///< their classes
};

}  // namespace difflab::plugins
