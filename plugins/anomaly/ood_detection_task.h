// SPDX-License-Identifier: Apache-2.0
// The 'ood_detection' task: out-of-distribution detection by multi-start reconstruction.
#pragma once

#include <difflab/diffusion/dataset.h>
#include <difflab/diffusion/metric.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Out-of-distribution detection with a diffusion model trained on in-distribution data (Graham
/// et al. 2023, "Denoising diffusion models for out-of-distribution detection"): every image is
/// reconstructed from partial diffusion to each `t_start` (partial_diffusion.h), scored by the
/// mean squared reconstruction error, each start's scores z-scored on in-distribution validation
/// images and averaged. Of the `sample.count` images, the first `validation_count` are
/// in-distribution images (validation), then M = (count - validation_count) / 2 more of them
/// (label 0) and the first M of `outliers` (label 1; e.g. Fashion-MNIST with `flip: vertical`,
/// or another dataset of the same shape). The in-distribution images are the run's data, or
/// `held_out` when the data are for training (one-class detection: train on one class of the
/// training split, score that class of the test split against the others). metrics.json:
/// image_auroc and image_ap of the combined scores, and image_auroc_t<t> for each start alone.
/// With `likelihood` (a metric of the model with per-example values, e.g. {type: nll_bpd}:
/// score_sde's NLL in bits/dim; the scored images are its examples, so its batch_size applies and
/// each image keys its probes by its place among them), each scored image's value is a second
/// score, and likelihood_auroc its AUROC with the higher NLL taken as the outlier (Nalisnick et
/// al. 2019 found likelihood ranks such outliers as more likely: an AUROC below 0.5). Figure:
/// image | reconstruction (first start) rows of in-distribution, then outlier images.
class ood_detection_task final : public task {
public:
    struct options {
        component_ref<difflab::dataset> outliers;
        component_ref<difflab::dataset> held_out;
        std::vector<double> t_start{0.1, 0.3, 0.5};
        std::int64_t validation_count = 100;
        component_ref<metric> likelihood;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    ood_detection_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
