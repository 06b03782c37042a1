// SPDX-License-Identifier: Apache-2.0
// Every registered sampler on every registered process, loaded from the real plugin libraries,
// through the conformance checks difflab/testing/sampler_conformance.h exports.
#include <difflab/tensor/ops.h>
#include <difflab/testing/sampler_conformance.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace difflab;
using difflab::testing::installed_components;
using difflab::testing::installed_processes;

namespace {

/// Sampler `name` with its defaults, a short run where it has `steps`.
std::unique_ptr<sampler> make_sampler(const component_info& info) {
    static build_context context(installed_components(), 0);
    const bool has_steps =
        std::any_of(info.params.begin(), info.params.end(), [](const param_info& p) { return p.key == "steps"; });
    const std::string yaml = fmt::format("{{type: {}{}}}", info.name, has_steps ? ", steps: 6" : "");
    const config_node resolved = installed_components().resolve("sampler", parse_yaml(yaml, "sampler_matrix"),
                                                                parse_context(&installed_components()));
    std::unique_ptr<component> made = context.create("sampler", resolved);
    return std::unique_ptr<sampler>(static_cast<sampler*>(made.release()));
}

/// The (sampler, process) pairs refused with default options, as docs/samplers.md lists them:
/// annealed Langevin is defined for variance-exploding processes only, and its default step
/// size (Song & Ermon's, for sigma_min = 0.01) is unstable at EDM's sigma_min = 0.002.
const std::set<std::pair<std::string, std::string>> refused{{"annealed_langevin", "ddpm"},
                                                            {"annealed_langevin", "vp_sde"},
                                                            {"annealed_langevin", "subvp_sde"},
                                                            {"annealed_langevin", "edm"}};

}  // namespace

TEST_CASE("the plugins register the samplers and processes of the survey") {
    std::set<std::string> samplers, processes;
    for (const component_info* info : installed_components().of_kind("sampler")) samplers.insert(info->name);
    for (const component_info* info : installed_components().of_kind("process")) processes.insert(info->name);
    for (const char* name : {"ddpm", "ddim", "plms", "annealed_langevin", "euler_maruyama", "pc", "ode", "dpm_solver",
                             "dpm_solver_pp", "edm", "ddrm"})
        CHECK_MESSAGE(samplers.count(name) == 1, "sampler/", name);
    for (const char* name : {"ddpm", "ncsn", "vp_sde", "subvp_sde", "ve_sde", "edm"})
        CHECK_MESSAGE(processes.count(name) == 1, "process/", name);
}

TEST_CASE("every sampler on every process: refusal or NFE as announced, batch-independent samples") {
    REQUIRE(!installed_processes().empty());
    for (const testing::named_process& each : installed_processes()) {
        for (const component_info* sampler_info : installed_components().of_kind("sampler")) {
            const std::string pair = sampler_info->name + " on " + each.name;
            CAPTURE(pair);
            const auto s = make_sampler(*sampler_info);
            const std::vector<std::string> failures = testing::sampler_conformance_failures(
                *s, sampler_info->name, *each.p, each.name, refused.count({sampler_info->name, each.name}) > 0);
            for (const std::string& failure : failures) FAIL_CHECK(failure);
            CHECK(failures.empty());
        }
    }
}

TEST_CASE("the conformance checks fail a sampler that breaks them") {
    // Known failures: a sampler that announces one evaluation too few, and one that claims to be
    // deterministic while its noise is keyed by position in the batch.
    struct miscounting final : grid_sampler {
        miscounting() : grid_sampler(grid_options{4}) {}
        std::int64_t evaluations(const process&) const override { return 3; }
        tensor update(const grid_step& step) const override { return step.x + step.noise() * 0.1; }
    };
    struct batch_keyed final : sampler {
        tensor sample(const denoiser& d, tensor x, const sampling_context& ctx) const override {
            const tensor z = ctx.noise_like(x.slice(0, 0, 1).contiguous(), 0);  // one draw shared by the batch
            return d.x0(x + z, d.diffusion_process().t_max());
        }
        std::int64_t evaluations(const process&) const override { return 1; }
        bool deterministic() const override { return true; }
    };
    const process& p = *installed_processes().front().p;
    const auto miscounted = testing::sampler_conformance_failures(miscounting{}, "miscounting", p, "first");
    REQUIRE(miscounted.size() == 1);
    CHECK(miscounted[0] == "sampler 'miscounting' on process 'first': evaluations() announced 3, sample() spent 4");

    const auto keyed = testing::sampler_conformance_failures(batch_keyed{}, "batch_keyed", p, "first");
    REQUIRE(keyed.size() == 2);
    CHECK(keyed[0].find("sample 37 drawn alone differs") != std::string::npos);
    CHECK(keyed[1].find("deterministic() is true, but another seed changes the samples") != std::string::npos);

    const auto accepted = testing::sampler_conformance_failures(miscounting{}, "miscounting", p, "first", true);
    REQUIRE(accepted.size() == 2);
    CHECK(accepted[0].find("check() accepted a process") != std::string::npos);
    CHECK(accepted[1].find("sample() ran on a process check() refuses") != std::string::npos);
}
