// SPDX-License-Identifier: Apache-2.0
// Every registered sampler on every registered process, loaded from the real plugin libraries.
#include <difflab/base/error.h>
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/diffusion/sampler.h>
#include <difflab/plugin/plugin_loader.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace difflab;

namespace {

/// The plugins this build made (build/lib/difflab), loaded once: new samplers and processes
/// join the matrix without a change here.
const registry& components() {
    static registry loaded;
    static const bool once = [] {
        plugin_loader(loaded).load_all(plugin_loader::default_search_path());
        return true;
    }();
    (void)once;
    return loaded;
}

build_context& builder() {
    static build_context context(components(), 0);
    return context;
}

/// Component `name` of `kind` with its defaults, a short run where it has `steps`.
template <class K>
std::unique_ptr<K> make(const component_info& info) {
    const bool has_steps =
        std::any_of(info.params.begin(), info.params.end(), [](const param_info& p) { return p.key == "steps"; });
    const std::string yaml =
        fmt::format("{{type: {}{}}}", info.name, info.kind == "sampler" && has_steps ? ", steps: 6" : "");
    const config_node resolved =
        components().resolve(info.kind, parse_yaml(yaml, "sampler_matrix"), parse_context(&components()));
    std::unique_ptr<component> made = builder().create(info.kind, resolved);
    return std::unique_ptr<K>(static_cast<K*>(made.release()));
}

bool all_finite(const std::vector<float>& values) {
    return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
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
    for (const component_info* info : components().of_kind("sampler")) samplers.insert(info->name);
    for (const component_info* info : components().of_kind("process")) processes.insert(info->name);
    for (const char* name : {"ddpm", "ddim", "plms", "annealed_langevin", "euler_maruyama", "pc", "ode", "dpm_solver",
                             "dpm_solver_pp", "edm"})
        CHECK_MESSAGE(samplers.count(name) == 1, "sampler/", name);
    for (const char* name : {"ddpm", "ncsn", "vp_sde", "subvp_sde", "ve_sde", "edm"})
        CHECK_MESSAGE(processes.count(name) == 1, "process/", name);
}

TEST_CASE("every sampler on every process: refusal or NFE as announced, batch-independent samples") {
    const double variance = 0.25;  // data N(0, 0.25 I): the exact denoiser is known
    for (const component_info* process_info : components().of_kind("process")) {
        const auto p = make<process>(*process_info);
        const gaussian_denoiser d(*p, variance);
        const tensor x_T = randn({64, 3}, 1, random_purpose("test/prior")) * static_cast<float>(p->prior_std());
        for (const component_info* sampler_info : components().of_kind("sampler")) {
            const std::string pair = sampler_info->name + " on " + process_info->name;
            CAPTURE(pair);
            const auto s = make<sampler>(*sampler_info);
            if (refused.count({sampler_info->name, process_info->name})) {
                // A refusal is one clear line naming the sampler, before any evaluation.
                try {
                    s->check(*p);
                    FAIL("check() accepted an undefined pair");
                } catch (const config_error& e) {
                    const std::string text = e.what();
                    CHECK(text.find('\n') == std::string::npos);
                    CHECK(text.find(sampler_info->name) != std::string::npos);
                }
                CHECK_THROWS_AS(s->sample(d, x_T, sampling_context{}), config_error);
                CHECK(d.evaluations() == 0);
                continue;
            }
            CHECK_NOTHROW(s->check(*p));
            sampling_context ctx;
            ctx.seed = 5;
            d.reset_evaluations();
            const auto batch = s->sample(d, x_T, ctx).to_vector();
            CHECK(all_finite(batch));
            if (s->evaluations(*p) > 0) CHECK(d.evaluations() == s->evaluations(*p));

            // Row 37 drawn alone, as the 38th example of the seed, is the same sample bit for bit.
            sampling_context alone = ctx;
            alone.first_index = 37;
            const auto row = s->sample(d, x_T.slice(0, 37, 38).contiguous(), alone).to_vector();
            REQUIRE(row.size() == 3);
            for (std::size_t i = 0; i < 3; ++i) CHECK(row[i] == batch[37 * 3 + i]);

            // deterministic() tells the truth: another seed changes exactly the stochastic samplers.
            sampling_context reseeded = ctx;
            reseeded.seed = 6;
            const bool same = s->sample(d, x_T, reseeded).to_vector() == batch;
            CHECK(same == s->deterministic());
        }
    }
}
