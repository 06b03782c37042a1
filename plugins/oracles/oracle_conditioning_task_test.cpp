// SPDX-License-Identifier: Apache-2.0
// The oracle_conditioning task through the real plugins: NFE counted over the whole path, refusals
// as variants not run, what metrics.json holds.
#include <difflab/base/error.h>
#include <difflab/diffusion/sampling_path.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/experiment.h>
#include <difflab/run/task.h>
#include <difflab/run/variants.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// 200 samples of a 4-D mixture under the VP-SDE, first half of each point observed.
std::string experiment(const std::string& task, const std::string& sampler, int nfe) {
    return "name: conditioning_test\nseed: 0\n"
           "data: {type: gmm, shape: [4], components: 3, spread: 1.5, scale: 0.4, seed: 1}\n"
           "process: {type: vp_sde}\n"
           "task: {type: oracle_conditioning, measurement: {type: mask, missing: right_half}, floor_pairs: 2, " +
           task + "}\nsample: {sampler: " + sampler + ", nfe: " + std::to_string(nfe) +
           ", count: 200, batch_size: 128}\n"
           "evaluate: {metrics: [{type: sliced_wasserstein, projections: 16}]}\n";
}

/// Runs the experiment in a fresh directory; its metrics.json as name -> value, with "nfe".
std::map<std::string, double> run(const std::string& yaml) {
    const registry& loaded = testing::build_plugins();
    const config_node resolved = resolve_experiment(parse_yaml(yaml, "conditioning_test.yaml"), loaded);
    const fs::path dir = fs::temp_directory_path() / ("difflab_oracle_conditioning_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    run_context ctx(loaded, resolved, dir, 0);
    ctx.build<task>("task")->run(ctx);
    const recorded_metrics recorded = read_metrics_json(dir / "metrics.json");
    fs::remove_all(dir);
    std::map<std::string, double> out(recorded.values.begin(), recorded.values.end());
    out["nfe"] = recorded.nfe;
    return out;
}

}  // namespace

TEST_CASE("oracle_conditioning records the distance to the exact conditional with its floor, moments and steps") {
    const auto m = run(experiment("method: replacement", "{type: ddpm}", 20));
    for (const char* key : {"sliced_wasserstein", "sliced_wasserstein_floor", "mean_error", "covariance_error"})
        CHECK(m.count(key) == 1);
    CHECK(m.at("steps") == 20);  // one evaluation per step
    CHECK(m.at("nfe") == 20);
    CHECK(m.at("sliced_wasserstein") > m.at("sliced_wasserstein_floor"));
}

TEST_CASE("oracle_conditioning pays RePaint's jumps and reconstruction guidance's products from the budget") {
    // RePaint: the largest base grid whose path (every stretch denoised jump_n_sample times)
    // fits 30 evaluations of DDIM: one per denoising step and one for the landing on the
    // estimate at the last time, counted here from the path itself.
    const auto repaint = run(experiment("method: repaint, jump_length: 2, jump_n_sample: 3", "{type: ddim}", 30));
    const auto cost = [](std::int64_t steps) {
        std::vector<double> grid;
        for (std::int64_t i = 0; i < steps; ++i) grid.push_back(1.0 - 0.9 * static_cast<double>(i) / steps);
        return repaint_path(grid, 2, 3).denoise_steps() + 1;
    };
    const auto steps = static_cast<std::int64_t>(repaint.at("steps"));
    CHECK(cost(steps) <= 30);
    CHECK(cost(steps + 1) > 30);
    CHECK(repaint.at("nfe") == cost(steps));
    // Reconstruction guidance: the estimate and its vector-Jacobian product, two per step.
    const auto guided = run(experiment("method: reconstruction_guidance", "{type: ddim}", 30));
    CHECK(guided.at("steps") == 15);
    CHECK(guided.at("nfe") == 30);
}

TEST_CASE(
    "oracle_conditioning: a sampler that cannot follow edits, or one step over the budget, is not "
    "applicable, a measurement method without a measurement is a configuration error") {
    CHECK_THROWS_AS(run(experiment("method: replacement", "{type: ode, method: rk45}", 0)), variant_not_applicable);
    CHECK_THROWS_AS(run(experiment("method: reconstruction_guidance", "{type: ddim}", 1)), variant_not_applicable);
    // Classifier guidance wraps the denoiser only: rk45 runs it.
    const auto adaptive = run(experiment("method: classifier_guidance, class: 1", "{type: ode, method: rk45}", 0));
    CHECK(adaptive.at("nfe") > 0);
    const std::string without =
        "name: conditioning_test\nseed: 0\n"
        "data: {type: gmm, shape: [4], components: 3, seed: 1}\n"
        "process: {type: vp_sde}\ntask: {type: oracle_conditioning, method: repaint}\n"
        "sample: {sampler: {type: ddim}, nfe: 20, count: 50}\n"
        "evaluate: {metrics: [{type: sliced_wasserstein}]}\n";
    try {
        run(without);
        FAIL("a repaint run without a measurement ran");
    } catch (const variant_not_applicable&) {
        FAIL("a missing measurement is a configuration error, not a variant that does not apply");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()).find("task.measurement") != std::string::npos);
    }
}
