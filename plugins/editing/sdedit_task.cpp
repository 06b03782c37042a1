// SPDX-License-Identifier: Apache-2.0
// The 'sdedit' task.
#include "sdedit_task.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/mask_replacement.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <memory>
#include <numeric>

#include "editing_common.h"
#include "inpainting_masks.h"
#include "sdedit_guides.h"

namespace difflab::plugins {

namespace {

/// K descents along `grid` (from t0 to t_min), each after the first preceded by a jump from the
/// end of the previous one back up to t0: SDEdit's K rounds as one path.
sampling_path chained_descents(const std::vector<double>& grid, std::int64_t rounds) {
    sampling_path path = descent(grid);
    const sampling_path one = path;
    for (std::int64_t k = 1; k < rounds; ++k) {
        path.steps.push_back({path_step::kind::jump, grid.back(), grid.front(), 1, true});
        path.steps.insert(path.steps.end(), one.steps.begin(), one.steps.end());
    }
    return path;
}

}  // namespace

param_spec<sdedit_task::options> sdedit_task::params() {
    param_spec<options> spec{"SDEdit (Meng et al. 2022): realistic images from stroke paintings, starting at t0."};
    spec.add(&options::t0, "t0",
             "The time the guide is noised to and denoised from, in (t_min, t_max]: small stays faithful, large "
             "realistic.",
             closed_range(0.0, 1.0));
    spec.add(&options::rounds, "rounds", "K: denoise, jump back to t0 and denoise again, K times in all.",
             at_least<std::int64_t>(1));
    spec.add(&options::guide_size, "guide_size", "Side of the guide's block-averaged layout (divides the image side).",
             at_least<std::int64_t>(1));
    spec.add(&options::guide_levels, "guide_levels", "Grey levels of the guide's paint.", at_least<std::int64_t>(2));
    std::vector<std::string> keeps{"none"};
    for (const std::string& kind : inpainting_mask_kinds()) keeps.push_back(kind);
    spec.add(&options::keep, "keep",
             "A region of the source image to keep (the known part of an inpainting mask), or none.", one_of(keeps));
    return spec;
}

sdedit_task::sdedit_task(const options& opts, build_context&) : opts_(opts) {}

void sdedit_task::run(run_context& ctx) {
    task_flow flow(ctx, "sdedit");
    const process& p = flow.diffusion();
    if (!(opts_.t0 > p.t_min() && opts_.t0 <= p.t_max()))
        throw config_error(
            fmt::format("sdedit: t0 {:g} is outside (t_min, t_max] = ({:g}, {:g}] of the process; "
                        "choose a start time inside it",
                        opts_.t0, p.t_min(), p.t_max()));
    flow.train();
    flow.load_weights();
    const std::int64_t count = flow.sample_count();
    const source_images source = load_source_images(flow.data(), count, "sdedit");
    const stroke_guides guides = make_stroke_guides(source.x, opts_.guide_size, opts_.guide_levels);
    const bool keep = opts_.keep != "none";
    const tensor masks =
        keep ? inpainting_masks(opts_.keep, source.x.size(2), source.x.size(3), ctx.seed(), 0, count) : tensor();

    const tensor& samples = flow.draw_samples(
        [&](std::int64_t first, std::int64_t n, const sampling_context& context, const sampler& method) {
            const tensor guide = guides.image.slice(0, first, first + n).contiguous();
            task_flow::conditioned_batch batch{
                {flow.network_model(), 1},
                std::make_shared<sampling_path>(chained_descents(method.times(p, opts_.t0), opts_.rounds)),
                {},
                noised_start(p, guide, opts_.t0, context),
                nullptr};
            if (keep)
                batch.constraints.push_back(
                    std::make_shared<mask_replacement>(p, masks.slice(0, first, first + n).contiguous(),
                                                       source.x.slice(0, first, first + n).contiguous()));
            return batch;
        },
        fmt::format(", from stroke guides ({0}x{0}, {1} levels) at t0 = {2:g}, {3} round{4}{5}", opts_.guide_size,
                    opts_.guide_levels, opts_.t0, opts_.rounds, opts_.rounds == 1 ? "" : "s",
                    keep ? fmt::format(", keeping the known part of mask `{}`", opts_.keep) : ""));

    write_comparison_figure(ctx.samples_dir() / "sdedit.png", {guides.image, samples, source.x},
                            flow.sample_options().columns);
    flow.report() += fmt::format("\nRows: stroke guide, output, source image.\n\n![sdedit]({}/sdedit.png)\n",
                                 std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());

    const std::int64_t evaluated = flow.evaluation_count();
    const std::vector<double> distances =
        guide_distances(samples.slice(0, 0, evaluated).contiguous(), guides.coarse.slice(0, 0, evaluated).contiguous());
    const double guide_l2 = std::accumulate(distances.begin(), distances.end(), 0.0) / static_cast<double>(evaluated);
    flow.evaluate_paired(source.x, source.labels, source.labels,
                         fmt::format("the source images: images 0..{} of the data, paired", evaluated - 1),
                         {{"guide_l2", guide_l2}});
    flow.write_report();
}

}  // namespace difflab::plugins
