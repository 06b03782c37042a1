// SPDX-License-Identifier: Apache-2.0
// The 'restoration' task: restore real images from a linear measurement of them.
#pragma once

#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <string>
#include <vector>

namespace difflab::plugins {

/// Linear inverse problems on real images, the survey's image restoration (Kawar et al. 2022,
/// "Denoising diffusion restoration models", DDRM): the first `sample.count` (or
/// `evaluate.count`) images x of the run's data are measured as y = H x + sigma_y n by
/// `measurement` (bound to the data's shape; sigma_y its noise_std, n drawn per image on the
/// stream "restoration/measurement", so every method of a grid restores the same y), and
///   ddrm            the sampler, which must invert observations (sample.sampler.type: ddrm),
///                   restores x from y with the run's unconditional network;
///   pseudo_inverse  x = H^+ y, the least-norm image that explains y (no network, no sampling).
/// Writes the restorations, a figure of measurement (y when it is an image, shown at the data's
/// size; H^+ y otherwise) | restoration | ground truth rows (samples/restoration.png) and, with
/// `evaluate.metrics`, the metrics against the ground truth paired image by image (psnr, ssim,
/// fid, classifier_accuracy against the true labels, ...) plus `consistency`, the root mean
/// square of H x - y over the measured values (0 when the restoration explains y exactly).
class restoration_task final : public task {
public:
    struct options {
        component_ref<difflab::measurement> measurement;
        std::string method = "ddrm";
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network"}; }
    restoration_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
