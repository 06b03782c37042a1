// SPDX-License-Identifier: Apache-2.0
// The 'restoration' task.
#include "restoration_task.h"

#include <difflab/base/error.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <memory>

#include "measured_images.h"

namespace difflab::plugins {

param_spec<restoration_task::options> restoration_task::params() {
    param_spec<options> spec{
        "Restoration from a linear measurement y = H x + sigma_y n: DDRM (Kawar et al. 2022) or the pseudo-inverse."};
    spec.add(&options::measurement, "measurement",
             "The degradation H with its noise_std sigma_y, bound to the data's image shape, e.g. {type: "
             "block_average, factor: 4, noise_std: 0.05}.");
    spec.add(&options::method, "method",
             "ddrm: the sampler (type ddrm) restores x from y with the run's network; pseudo_inverse: H^+ y.",
             one_of({"ddrm", "pseudo_inverse"}));
    return spec;
}

restoration_task::restoration_task(const options& opts, build_context&) : opts_(opts) {
    if (!opts_.measurement.present())
        throw config_error(
            "task 'restoration' needs `measurement`, the degradation to restore from; add e.g. measurement: {type: "
            "block_average, factor: 4, noise_std: 0.05}");
}

void restoration_task::run(run_context& ctx) {
    task_flow flow(ctx, "restoration");
    const bool ddrm = opts_.method == "ddrm";
    if (ddrm) {
        flow.train();
        flow.load_weights();
    }
    const std::int64_t count = flow.sample_count();
    const source_images source = load_source_images(flow.data(), count, "restoration");
    std::unique_ptr<measurement> h = ctx.builder().create(opts_.measurement);
    h->bind(flow.data().example_shape());
    const tensor y = measure(*h, source.x, flow.noise_source(), ctx.seed());
    const std::string degradation =
        fmt::format("measurement `{}`, sigma_y {}", to_flow_yaml(opts_.measurement.node()), h->noise_std());

    const tensor& restored =
        ddrm ? flow.draw_samples(
                   [&](std::int64_t first, std::int64_t n, const sampling_context&, const sampler& method) {
                       if (!method.inverts_observation())
                           throw config_error(fmt::format(
                               "task 'restoration': method ddrm needs a sampler that inverts the measurement, not "
                               "'{}'; set sample.sampler.type: ddrm",
                               flow.sample_options().sampler.type()));
                       task_flow::conditioned_batch batch{{flow.network_model(), 1}, nullptr, {}, tensor(), nullptr};
                       batch.observed = std::make_shared<observation>(
                           observation{h.get(), y.slice(0, first, first + n).contiguous()});
                       return batch;
                   },
                   ", " + degradation)
             : flow.use_samples(h->pseudo_inverse(y), "the pseudo-inverse H^+ y, " + degradation);

    write_comparison_figure(ctx.samples_dir() / "restoration.png",
                            {shown_measurement(*h, y, flow.data().example_shape()), restored, source.x},
                            flow.sample_options().columns);
    flow.report() += fmt::format(
        "\nRows: the measurement y (or H^+ y when y is not an image), the restoration, the ground truth.\n\n"
        "![restoration]({}/restoration.png)\n",
        std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());

    const std::int64_t evaluated = flow.evaluation_count();
    const double explained = measurement_consistency(*h, restored.slice(0, 0, evaluated).contiguous(),
                                                     y.slice(0, 0, evaluated).contiguous());
    flow.evaluate_paired(source.x, source.labels, source.labels,
                         fmt::format("the ground truth: images 0..{} of the data, paired", evaluated - 1),
                         {{"consistency", explained}});
    flow.write_report();
}

}  // namespace difflab::plugins
