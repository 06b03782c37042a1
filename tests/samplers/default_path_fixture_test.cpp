// SPDX-License-Identifier: Apache-2.0
// Every sampler x process, bit for bit against samples recorded before sampling paths and
// conditioning operators existed: the default path must give exactly the samples it always did.
#include <difflab/diffusion/gaussian_denoiser.h>
#include <difflab/io/safetensors.h>
#include <difflab/tensor/ops.h>
#include <difflab/tensor/random.h>
#include <difflab/testing/sampler_conformance.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

using namespace difflab;
using difflab::testing::installed_components;
using difflab::testing::installed_processes;

namespace {

/// The recorded samples; DIFFLAB_WRITE_FIXTURES=1 rewrites them (only ever before a change
/// that must not move any sample, never to make this test pass after one).
const char* const fixture_path = DIFFLAB_SOURCE_DIR "/tests/fixtures/samplers/default_path.safetensors";

/// Sampler configurations covering each sampler's code paths (orders, methods, warm-ups,
/// churn, predictors and correctors), each short.
const std::vector<std::string> sampler_configs{
    "{type: ddpm, steps: 6}",
    "{type: ddim, steps: 6}",
    "{type: ddim, steps: 6, eta: 1.0}",
    "{type: plms, steps: 6}",
    "{type: plms, steps: 6, warmup: prk}",
    "{type: euler_maruyama, steps: 6}",
    "{type: pc, steps: 4}",
    "{type: pc, steps: 4, predictor: euler_maruyama, norms: expected, corrector_steps: 2}",
    "{type: annealed_langevin, steps: 4, steps_each: 2}",
    "{type: ode, method: euler, steps: 6}",
    "{type: ode, method: heun, steps: 6}",
    "{type: ode, method: rk4, steps: 4}",
    "{type: ode, method: rk45, rtol: 1.0e-3, atol: 1.0e-3}",
    "{type: dpm_solver, steps: 6, order: 1}",
    "{type: dpm_solver, steps: 6, order: 2}",
    "{type: dpm_solver, steps: 20, order: 3}",
    "{type: dpm_solver, steps: 4, order: 2, method: singlestep}",
    "{type: dpm_solver, steps: 4, order: 3, method: singlestep}",
    "{type: dpm_solver_pp, steps: 6, order: 2}",
    "{type: dpm_solver_pp, steps: 20, order: 3}",
    "{type: edm, steps: 6}",
    "{type: edm, steps: 6, s_churn: 40, s_min: 0.05, s_max: 50}",
    "{type: ddim, steps: 6, spacing: karras}",
    "{type: ddpm, steps: 6, spacing: logsnr}",
};

std::unique_ptr<sampler> make_sampler(const std::string& yaml) {
    static build_context context(installed_components(), 0);
    const config_node resolved = installed_components().resolve("sampler", parse_yaml(yaml, "default_path_fixture"),
                                                                parse_context(&installed_components()));
    std::unique_ptr<component> made = context.create("sampler", resolved);
    return std::unique_ptr<sampler>(static_cast<sampler*>(made.release()));
}

/// The samples of one sampler on one process from a fixed x_T and seed, or an undefined tensor
/// when the sampler refuses the process.
tensor samples_of(const sampler& s, const process& p) {
    try {
        s.check(p);
    } catch (const config_error&) {
        return {};
    }
    const gaussian_denoiser d(p, 0.25);
    const tensor x_T = randn({5, 3}, 11, random_purpose("test/prior"), 0, 0) * static_cast<float>(p.prior_std());
    sampling_context ctx;
    ctx.seed = 7;
    ctx.first_index = 3;
    return s.sample(d, x_T, ctx).contiguous();
}

}  // namespace

TEST_CASE("every sampler x process reproduces its recorded samples bit for bit on the default path") {
    const char* write = std::getenv("DIFFLAB_WRITE_FIXTURES");
    const bool writing = write != nullptr && std::string(write) == "1";
    safetensors_file recorded;
    if (!writing) recorded = read_safetensors(fixture_path);
    safetensors_file written;
    std::size_t compared = 0;
    for (const std::string& config : sampler_configs) {
        const auto s = make_sampler(config);
        for (const testing::named_process& each : installed_processes()) {
            const std::string name = fmt::format("{} on {}", config, each.name);
            CAPTURE(name);
            const tensor samples = samples_of(*s, *each.p);
            if (!samples.defined()) continue;
            if (writing) {
                written.add(to_safetensors(name, samples));
                continue;
            }
            const safetensors_entry* entry = recorded.find(name);
            REQUIRE_MESSAGE(entry != nullptr, "no recorded samples for ", name);
            const tensor expected = to_tensor(*entry);
            REQUIRE(expected.shape() == samples.shape());
            const std::vector<float> a = samples.to_vector(), b = expected.to_vector();
            CHECK_MESSAGE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0, name, ": samples moved");
            ++compared;
        }
    }
    if (writing) {
        write_safetensors(fixture_path, written);
        MESSAGE("wrote ", written.tensors.size(), " recorded sample sets to ", std::string(fixture_path));
    } else {
        CHECK(compared == recorded.tensors.size());
    }
}
