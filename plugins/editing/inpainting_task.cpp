// SPDX-License-Identifier: Apache-2.0
// The 'inpainting' task.
#include "inpainting_task.h"

#include <difflab/diffusion/mask_replacement.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <memory>

#include "editing_common.h"
#include "inpainting_masks.h"

namespace difflab::plugins {

param_spec<inpainting_task::options> inpainting_task::params() {
    param_spec<options> spec{
        "Inpainting with an unconditional model: replacement (Song et al. 2021) or RePaint (Lugmayr et al. 2022)."};
    spec.add(&options::mask, "mask",
             "Which pixels are missing: center (the centre half-size box), left_half, expand (all but the centre "
             "box of side 5H/14), thick_strokes, thin_strokes (seeded per image), every_second_line, nearest_x2 "
             "(all but every other pixel in both directions).",
             one_of(inpainting_mask_kinds()));
    spec.add(&options::method, "method",
             "replacement: the sampler's own path; repaint: RePaint's path of jumps back over the sampler's times.",
             one_of({"replacement", "repaint"}));
    spec.add(&options::jump_length, "jump_length", "RePaint: steps jumped back at a time.", at_least<std::int64_t>(1));
    spec.add(&options::jump_n_sample, "jump_n_sample",
             "RePaint: times each stretch is denoised (1: no jumps, the plain path).", at_least<std::int64_t>(1));
    spec.add(&options::fixed_noise, "fixed_noise",
             "Noise the known pixels with one draw for the whole path instead of a fresh one at every state.");
    return spec;
}

inpainting_task::inpainting_task(const options& opts, build_context&) : opts_(opts) {}

void inpainting_task::run(run_context& ctx) {
    task_flow flow(ctx, "inpainting");
    flow.train();
    flow.load_weights();
    const std::int64_t count = flow.sample_count();
    const source_images source = load_source_images(flow.data(), count, "inpainting");
    const std::int64_t height = source.x.size(2), width = source.x.size(3);
    const tensor masks = inpainting_masks(opts_.mask, height, width, ctx.seed(), 0, count);
    const process& p = flow.diffusion();
    const bool repaint = opts_.method == "repaint";

    const tensor& samples = flow.draw_samples(
        [&](std::int64_t first, std::int64_t n, const sampling_context&, const sampler& method) {
            task_flow::conditioned_batch batch{{flow.network_model(), 1}, nullptr, {}, tensor(), nullptr};
            batch.constraints.push_back(std::make_shared<mask_replacement>(
                p, masks.slice(0, first, first + n).contiguous(), source.x.slice(0, first, first + n).contiguous(),
                opts_.fixed_noise));
            if (repaint)
                batch.path = std::make_shared<sampling_path>(
                    repaint_path(method.times(p, p.t_max()), opts_.jump_length, opts_.jump_n_sample));
            return batch;
        },
        fmt::format(
            ", mask `{}`, {}{}", opts_.mask, opts_.method,
            repaint ? fmt::format(" (jump_length {}, jump_n_sample {})", opts_.jump_length, opts_.jump_n_sample) : ""));

    const tensor masked_input = source.x * masks;  // missing pixels at 0, mid-grey
    write_comparison_figure(ctx.samples_dir() / "inpainting.png", {masked_input, samples, source.x},
                            flow.sample_options().columns);
    flow.report() += fmt::format(
        "\nRows: masked input (missing pixels grey), output, ground truth.\n\n![inpainting]({}/inpainting.png)\n",
        std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());

    const std::int64_t evaluated = flow.evaluation_count();
    const double psnr_missing =
        missing_pixel_psnr(samples.slice(0, 0, evaluated).contiguous(), source.x.slice(0, 0, evaluated).contiguous(),
                           masks.slice(0, 0, evaluated).contiguous());
    flow.evaluate_paired(source.x, source.labels, source.labels,
                         fmt::format("the ground truth: images 0..{} of the data, paired", evaluated - 1),
                         {{"psnr_missing", psnr_missing}});
    flow.write_report();
}

}  // namespace difflab::plugins
