// SPDX-License-Identifier: Apache-2.0
// The 'segmentation' task: label-efficient segmentation from diffusion features and its controls.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Semantic segmentation from few labels (Baranchuk et al. 2022, "Label-efficient semantic
/// segmentation with diffusion models"). The run's data are the labelled scenes (x the image,
/// `paired` its label map of `classes` class ids, as fashion_scenes gives them), all of them;
/// `test` the scenes segmented and scored, the first `sample.count` (or `evaluate.count`).
/// `method`:
///   features         Baranchuk et al.: per-pixel features of the run's network as trained
///                    elsewhere (train.init_from: a DDPM of unlabelled scenes), the activations
///                    `taps` at each of `times` with one seeded noise draw shared by all images
///                    (pixel_features), classified by an ensemble of `members` pixel MLPs trained
///                    on the labelled pixels (pixel_ensemble; a class covering fewer than
///                    `min_region` pixels of an image is left out of training, as theirs);
///   random_features  the same with the network at its initialization (no weights loaded);
///   pixels           the same ensemble on each pixel's value and coordinates;
///   unet             the run's network trained here from scratch (train.steps, network
///                    `out_channels` = classes) with pixel-wise cross-entropy on the labelled
///                    scenes at noise input 0, one model.
/// Writes the predicted label maps as the samples, a figure of image | truth | prediction |
/// uncertainty rows (samples/segmentation.png; label maps in palette colors), and with
/// `evaluate.metrics` (iou and dice with `classes`) scores against the true maps; metrics.json
/// adds uncertainty_auroc (how well the per-pixel uncertainty, Baranchuk et al.'s Jensen-Shannon
/// score of the ensemble or the unet's softmax entropy, ranks wrong pixels above right ones),
/// image_uncertainty (their image score, averaged), feature_channels and labelled_pixels.
class segmentation_task final : public task {
public:
    struct options {
        std::string method = "features";
        component_ref<dataset> test{"fashion_scenes"};
        std::int64_t classes = 11;
        std::vector<double> times{0.05, 0.15, 0.25};
        std::vector<std::string> taps{"decoder.2", "decoder.3", "decoder.4"};
        std::int64_t members = 10;
        std::int64_t batch_size = 64;
        double lr = 1e-3;
        std::int64_t max_epochs = 100;
        std::int64_t patience = 50;
        std::int64_t min_region = 20;
        std::int64_t feature_batch = 16;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network"}; }
    segmentation_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
