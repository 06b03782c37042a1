// SPDX-License-Identifier: Apache-2.0
// Conformance checks of samplers on the exact Gaussian denoiser.
#include <difflab/base/error.h>
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/sampler_conformance.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace difflab::testing {

namespace {

bool all_finite(const std::vector<float>& values) {
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

/// H x = x_1 on 3-D points: what samplers that invert observations (DDRM) restore from here.
/// Its SVD is U = 1, s = 1, V = I.
class first_coordinate final : public measurement {
    binding prepare(const shape_t& shape) override {
        if (shape != shape_t{3}) throw config_error("first_coordinate: conformance data are 3-D points");
        return {{1}, {1.0}};
    }
    tensor do_apply(const tensor& x) const override { return x.slice(1, 0, 1).contiguous(); }
    tensor do_adjoint(const tensor& y) const override { return concat({y, tensor::zeros({y.size(0), 2})}, 1); }
    tensor do_v_transpose(const tensor& x) const override { return x; }
    tensor do_v(const tensor& c) const override { return c; }
    tensor do_u_transpose(const tensor& y) const override { return y; }
    tensor do_u(const tensor& c) const override { return c; }
};

}  // namespace

std::vector<std::string> sampler_conformance_failures(const sampler& s, const std::string& name, const process& p,
                                                      const std::string& process_name, bool refused) {
    std::vector<std::string> failures;
    auto fail = [&](const std::string& what) {
        failures.push_back(fmt::format("sampler '{}' on process '{}': {}", name, process_name, what));
    };
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({64, 3}, 1, random_purpose("test/prior")) * p.prior_std();
    if (refused) {
        try {
            s.check(p);
            fail("check() accepted a process the sampler is not defined for; throw a config_error saying why");
        } catch (const config_error& e) {
            const std::string text = e.what();
            if (text.find('\n') != std::string::npos) fail("the refusal is not one line: " + text);
            if (text.find(name) == std::string::npos) fail("the refusal does not name the sampler: " + text);
        }
        try {
            (void)s.sample(d, x_T, sampling_context{});
            fail("sample() ran on a process check() refuses; call check(p) first in sample()");
        } catch (const config_error&) {
            if (d.evaluations() != 0)
                fail(fmt::format("the refusal came after {} evaluations; refuse before any", d.evaluations()));
        }
        return failures;
    }
    try {
        s.check(p);
    } catch (const std::exception& e) {
        fail(std::string("check() refused a process the sampler must run on: ") + e.what());
        return failures;
    }
    // A sampler that inverts observations restores the first coordinate of a fixed draw, and
    // must refuse, before any evaluation, to sample without one.
    first_coordinate h;
    h.bind({3});
    const observation seen{&h, h.apply(randn({64, 3}, 2, random_purpose("test/observed")) * 0.5)};
    const observation seen_37{&h, seen.y.slice(0, 37, 38).contiguous()};
    if (s.inverts_observation()) {
        try {
            (void)s.sample(d, x_T, sampling_context{});
            fail("sample() ran without the observation it inverts; throw a config_error saying what to use");
        } catch (const config_error&) {
            if (d.evaluations() != 0)
                fail(fmt::format("the refusal came after {} evaluations; refuse before any", d.evaluations()));
        } catch (const std::exception& e) {
            fail(std::string("sample() without an observation threw other than a config_error: ") + e.what());
        }
    }
    try {
        sampling_context ctx;
        ctx.seed = 5;
        if (s.inverts_observation()) ctx.observed = &seen;
        const std::vector<float> batch = s.sample(d, x_T, ctx).to_vector();
        if (!all_finite(batch)) fail("the samples are not all finite");
        const std::int64_t announced = s.evaluations(p);
        if (announced > 0 && d.evaluations() != announced)
            fail(fmt::format("evaluations() announced {}, sample() spent {}", announced, d.evaluations()));

        // Sample 37 drawn alone, as the 38th example of the seed, is the same sample bit for bit.
        sampling_context alone = ctx;
        alone.first_index = 37;
        if (s.inverts_observation()) alone.observed = &seen_37;
        const std::vector<float> row = s.sample(d, x_T.slice(0, 37, 38).contiguous(), alone).to_vector();
        if (row.size() != 3 || !std::equal(row.begin(), row.end(), batch.begin() + 37 * 3))
            fail(
                "sample 37 drawn alone differs from row 37 of the batch; key noise by "
                "sampling_context::noise_like (first_index + row), not by position in the batch");

        // deterministic() tells the truth: another seed changes exactly the stochastic samplers.
        sampling_context reseeded = ctx;
        reseeded.seed = 6;
        const bool same = s.sample(d, x_T, reseeded).to_vector() == batch;
        if (same != s.deterministic())
            fail(same ? "deterministic() is false, but another seed gives the same samples"
                      : "deterministic() is true, but another seed changes the samples");
    } catch (const std::exception& e) {
        fail(std::string("sample() threw: ") + e.what());
    }
    return failures;
}

const registry& installed_components() {
    static registry loaded;
    static const bool once = [] {
        // Only the core's own plugin directory (the last entry), whatever DIFFLAB_PLUGIN_PATH says.
        plugin_loader(loaded).load_all({plugin_loader::default_search_path().back()});
        return true;
    }();
    (void)once;
    return loaded;
}

const std::vector<named_process>& installed_processes() {
    static const std::vector<named_process> processes = [] {
        static build_context context(installed_components(), 0);
        std::vector<named_process> made;
        for (const component_info* info : installed_components().of_kind("process")) {
            const config_node resolved = installed_components().resolve(
                "process", parse_yaml(fmt::format("{{type: {}}}", info->name), "sampler_conformance"),
                parse_context(&installed_components()));
            std::unique_ptr<component> built = context.create("process", resolved);
            made.push_back({info->name, std::unique_ptr<process>(static_cast<process*>(built.release()))});
        }
        return made;
    }();
    return processes;
}

std::string check_sampler_conformance(const sampler& s, const std::string& name, const std::set<std::string>& refused) {
    std::string failures;
    if (installed_processes().empty())
        return fmt::format("no processes found in {}; install difflab with its plugins",
                           plugin_loader::default_search_path().back().string());
    for (const named_process& each : installed_processes())
        for (const std::string& failure :
             sampler_conformance_failures(s, name, *each.p, each.name, refused.count(each.name) > 0))
            failures += (failures.empty() ? "" : "\n") + failure;
    return failures;
}

}  // namespace difflab::testing
