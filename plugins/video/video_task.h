// SPDX-License-Identifier: Apache-2.0
// The 'video' task: train a video diffusion model the RaMViD way, then predict, infill or generate videos.
#pragma once

#include <difflab/diffusion/guidance_schedule.h>
#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>
#include <vector>

namespace difflab::plugins {

/// Video prediction, infilling and generation with one diffusion model of whole videos
/// [N, C, F, H, W] (the survey's video generation: Ho et al. 2022, "Video diffusion models";
/// Höppe et al. 2022, "Diffusion models for video prediction and infilling", RaMViD).
///
/// Training (train:): RaMViD's masking. Each example keeps, with probability 1 -
/// `uncondition_rate`, a random set of 1..`max_given` frames clean inside x_t (at the same noise
/// input as the rest; condition::clean_mask, which the network also reads) and is scored on the
/// other frames only (condition::loss_mask); with probability `uncondition_rate` it is an
/// ordinary unconditional example. `uncondition_rate: 1` trains an unconditional video model.
///
/// Sampling (sample:): the first sample.count / `samples_per_video` videos of the run's data
/// (usually the test split), each drawn `samples_per_video` times (sample s is draw s / V of
/// video s % V), are given the frames `mode` and `given` name (prediction: the first `given`;
/// infilling: the first ceil(given / 2) and the last floor(given / 2); generation: none), and
/// sample.sampler generates the rest through the core's conditioning operators, with a mask
/// measurement that observes the given frames:
///   clean_replacement         RaMViD: the given frames held clean in every state, the network
///                             told which they are (the model must be trained with clean frames)
///   replacement               the given frames noised to each state's level (Song et al. 2021's
///                             replacement, Ho et al.'s baseline), for any video model
///   reconstruction_guidance   replacement plus Ho et al.'s reconstruction guidance, eq. 7: the
///                             estimate moved along w_r alpha_t grad ||x^a - x0^a(x_t)||^2 / 2 with
///                             w_r the `guidance` scale (two network evaluations per step)
///
/// Output: samples.safetensors, samples/strip.png (per shown video: the truth's frames, then each
/// draw's), samples/video_NNN.gif (truth | sample, given frames framed grey) for the first `shown`
/// samples, and with evaluate.metrics: each metric (psnr, ssim, fid, ...) on every generated
/// frame of the samples against the true frame, averaged over those frames; psnr_best and
/// ssim_best (best of the draws of each video) when samples_per_video > 1; centroid_error (and
/// centroid_error_best), the distance in pixels between the intensity centroids of generated and
/// true frames. The report has the values per frame.
class video_task final : public task {
public:
    struct options {
        std::string mode = "prediction";
        std::int64_t given = 4;
        std::string method = "clean_replacement";
        guidance_schedule guidance;
        double uncondition_rate = 0.5;
        std::int64_t max_given = 0;
        std::int64_t samples_per_video = 1;
        std::int64_t shown = 4;
        std::int64_t gif_delay_cs = 30;
    };
    static param_spec<options> params();
    static std::vector<std::string> required_sections() { return {"data", "process", "network", "sample.sampler"}; }
    video_task(const options& opts, build_context& ctx);

    void run(run_context& ctx) override;

private:
    options opts_;
};

}  // namespace difflab::plugins
