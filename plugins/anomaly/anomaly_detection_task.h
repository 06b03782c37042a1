// SPDX-License-Identifier: Apache-2.0
// The 'anomaly_detection' task: reconstruction-based detection of anomalies pasted onto real images.
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Reconstruction-based anomaly detection (Wyatt et al. 2022, AnoDDPM; Graham et al. 2023,
/// multi-start): the run's network, trained (when train.steps > 0) on normal images with the
/// experiment's `noise:` (Gaussian, or `simplex`) at times below `train_max_time` (AnoDDPM's
/// lambda_train), reconstructs images from partial diffusion: each image x is noised to each
/// `t_start` (AnoDDPM's lambda, a time: 0.2 is step 200 of 1000) with that noise, and
/// `sample.sampler` denoises it back along its grid from t_start. The anomaly map is
/// (x - x_hat)^2 summed over channels, the image score its mean; with several starts the scores
/// are z-scored per start on the normal validation images and averaged (Graham et al.), the maps
/// averaged.
///
/// Images: the first `sample.count` (or `evaluate.count`) of the run's data, with a
/// `anomaly_size` x `anomaly_size` `anomaly` (square: constant; patch: from another image)
/// pasted onto each with probability `anomalous_fraction` (pasted_anomalies.h). The first
/// `validation_count` are the validation split: their normal images z-score the starts, their
/// anomalous ones choose the Dice threshold on the maps (AnoDDPM's choice). The rest are scored:
/// metrics.json has image_auroc and image_ap (scores against the labels), pixel_auroc (maps
/// against the masks, every pixel of every scored image), dice (at that threshold, mean over the
/// scored anomalous images) and dice_threshold. Figure: image | anomaly mask | reconstruction
/// (first start) | anomaly map rows (samples/anomaly_detection.png).
class anomaly_detection_task final : public task {
public:
    struct options {
        std::vector<double> t_start{0.2};
        double train_max_time = 1.0;
        std::string anomaly = "square";
        std::int64_t anomaly_size = 8;
        double anomalous_fraction = 0.5;
        std::int64_t validation_count = 50;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    anomaly_detection_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
