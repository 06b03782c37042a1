// SPDX-License-Identifier: Apache-2.0
// The 'super_resolution' task.
#include "super_resolution_task.h"

#include <difflab/base/error.h>
#include <difflab/diffusion/measurement_conditioning.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/run/source_images.h>
#include <difflab/run/task_flow.h>
#include <difflab/tensor/autograd.h>
#include <difflab/tensor/ops.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "bicubic_upsampling.h"
#include "measured_images.h"

namespace difflab::plugins {

param_spec<super_resolution_task::options> super_resolution_task::params() {
    param_spec<options> spec{
        "Super-resolution: SR3 (Saharia et al. 2022) and its regression baseline, bicubic upsampling, ILVR (Choi "
        "et al. 2021) and DDRM (Kawar et al. 2022)."};
    spec.add(&options::measurement, "measurement",
             "The downsampler H (with its noise_std): resize (antialiased bicubic) or block_average, e.g. {type: "
             "resize, factor: 4}.");
    spec.add(&options::method, "method",
             "bicubic (no network), regression (trained here with L1), sr3 (a conditional denoiser trained here), "
             "ilvr or ddrm (the run's unconditional network).",
             one_of({"bicubic", "regression", "sr3", "ilvr", "ddrm"}));
    spec.add(&options::range_t, "range_t",
             "ilvr: condition only the steps that arrive at t >= range_t (0: every step; ILVR's range_t as a time).",
             closed_range(0.0, 1.0));
    return spec;
}

super_resolution_task::super_resolution_task(const options& opts, build_context&) : opts_(opts) {}

namespace {

/// The regression network's estimate of the high-resolution images from their bicubic upsampling
/// `up`: the same network as SR3's, given `up` as its input and its extra channels at noise input 0.
tensor regress(network& net, const tensor& up) {
    condition c;
    c.channels = up;
    return net.forward(up, tensor::zeros({up.size(0)}), c);
}

}  // namespace

void super_resolution_task::run(run_context& ctx) {
    task_flow flow(ctx, "super_resolution");
    const std::string& method = opts_.method;
    const process& p = flow.diffusion();
    const shape_t image = flow.data().example_shape();
    std::unique_ptr<measurement> h = ctx.builder().create(opts_.measurement);
    h->bind(image);
    const std::int64_t k = upsampling_factor(h->measured_shape(), image);
    if (k < 2)
        throw config_error(fmt::format(
            "task 'super_resolution': measurement `{}` gives {}, not an image an integer factor k >= 2 smaller than "
            "the data's {}; use a downsampler (resize or block_average)",
            to_flow_yaml(opts_.measurement.node()), shape_text(h->measured_shape()), shape_text(image)));
    const auto upsampled_measurement = [&](const tensor& x, std::int64_t first) {
        return bicubic_upsample(measure(*h, x, flow.noise_source(), ctx.seed(), first), k);
    };

    if (method == "sr3") {
        flow.train(
            [&](const example_batch& batch, std::int64_t, std::int64_t first) {
                condition c;
                c.channels = upsampled_measurement(batch.x, first);
                return c;
            },
            [&p](double u) { return p.t_min() + u * (p.t_max() - p.t_min()); });
    } else if (method == "regression") {
        flow.train_objective([&](const example_batch& batch, training_step& at) {
            return l1_loss(regress(flow.net(), upsampled_measurement(batch.x, at.first_position)), batch.x);
        });
    } else if (method != "bicubic") {
        flow.train();  // ilvr, ddrm: adopt train.init_from's unconditional model
    }
    if (method != "bicubic") flow.load_weights();

    const std::int64_t count = flow.sample_count();
    const source_images source = load_source_images(flow.data(), count, "super_resolution");
    const tensor y = measure(*h, source.x, flow.noise_source(), ctx.seed());
    const tensor up = bicubic_upsample(y, k);
    const std::string degradation =
        fmt::format("x{} from `{}`, sigma_y {}", k, to_flow_yaml(opts_.measurement.node()), h->noise_std());
    const auto rows = [](const tensor& t, std::int64_t first, std::int64_t n) {
        return t.slice(0, first, first + n).contiguous();
    };

    tensor restored;
    if (method == "bicubic") {
        restored = flow.use_samples(up, "bicubic upsampling of y, " + degradation);
    } else if (method == "regression") {
        const no_grad_guard no_grad;
        flow.net().eval();
        std::vector<tensor> parts;
        const std::int64_t batch = flow.sample_options().batch_size;
        for (std::int64_t first = 0; first < count; first += batch)
            parts.push_back(regress(flow.net(), rows(up, first, std::min(batch, count - first))));
        restored =
            flow.use_samples(concat(parts, 0), "the regression network on the bicubic upsampling of y, " + degradation);
    } else {
        restored = flow.draw_samples(
            [&](std::int64_t first, std::int64_t n, const sampling_context&, const sampler& s) {
                if (s.inverts_observation() != (method == "ddrm"))
                    throw config_error(fmt::format(
                        "task 'super_resolution': method {} {} a sampler that inverts the measurement, and '{}' {}; "
                        "{}",
                        method, method == "ddrm" ? "needs" : "does not use", flow.sample_options().sampler.type(),
                        s.inverts_observation() ? "does" : "does not",
                        method == "ddrm" ? "set sample.sampler.type: ddrm" : "choose another sampler"));
                std::unique_ptr<network_denoiser> model = flow.network_model();
                if (method == "sr3") {
                    condition c;
                    c.channels = rows(up, first, n);
                    model->set_condition(c);
                }
                task_flow::conditioned_batch batch{{std::move(model), 1}, nullptr, {}, tensor(), nullptr};
                if (method == "ilvr") {
                    batch.constraints.push_back(std::make_shared<measurement_replacement>(p, *h, rows(y, first, n)));
                    auto path = std::make_shared<sampling_path>(descent(s.times(p, p.t_max())));
                    constrain_between(*path, opts_.range_t, p.t_max());
                    batch.path = path;
                } else if (method == "ddrm") {
                    batch.observed = std::make_shared<observation>(observation{h.get(), rows(y, first, n)});
                }
                return batch;
            },
            ", " + method + ", " + degradation +
                (method == "ilvr" && opts_.range_t > 0 ? fmt::format(", range_t {}", opts_.range_t) : ""));
    }

    write_comparison_figure(ctx.samples_dir() / "super_resolution.png", {y, restored, source.x},
                            flow.sample_options().columns);
    flow.report() += fmt::format(
        "\nRows: the low-resolution input y (shown enlarged), the output, the high-resolution image.\n\n"
        "![super-resolution]({}/super_resolution.png)\n",
        std::filesystem::relative(ctx.samples_dir(), ctx.run_dir()).string());

    const std::int64_t evaluated = flow.evaluation_count();
    const double consistency = measurement_consistency(*h, rows(restored, 0, evaluated), rows(y, 0, evaluated));
    flow.evaluate_paired(source.x, source.labels, source.labels,
                         fmt::format("the high-resolution images 0..{} of the data, paired", evaluated - 1),
                         {{"consistency", consistency}});
    flow.write_report();
}

}  // namespace difflab::plugins
