// SPDX-License-Identifier: Apache-2.0
// Variant grids, claims and `difflab evaluate` through the command line, on a seconds-long model.
#include <doctest/doctest.h>

#include <string>

#include "cli_runner.h"

using namespace cli_test;

namespace {

// An MLP on two moons: one model shared by three sampler variants, each evaluated against
// 256 held-out points (toy2d data have no splits).
const char* grid_experiment = R"(name: grid
seed: 4
data: {type: toy2d, kind: moons, size: 512}
process: {type: ddpm, schedule: linear, steps: 100}
network: {type: mlp, hidden: 32, layers: 2}
task: {type: generation}
train: {steps: 30, batch_size: 32, lr: 1.0e-3, ema: 0.9, checkpoint_every: 30, log_every: 10}
sample: {sampler: {type: ddim, steps: 5}, count: 16, batch_size: 64}
evaluate: {count: 128, metrics: [sliced_wasserstein, mmd], reference_count: 256}
variants:
  sample.sampler:
    ddim_2: {type: ddim, steps: 2}
    ddim_10: {type: ddim, steps: 10}
    ddpm_10: {type: ddpm, steps: 10}
expect:
  sliced_wasserstein: {max: 10}
)";

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("a variant grid trains once, evaluates every variant and writes results.csv and the report") {
    const scratch dir("comparison_grid");
    dir.write("grid.yaml", grid_experiment);
    const result r = run("run grid.yaml", "", dir.root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(count_of(r.err, "training in") == 1);
    CHECK(count_of(r.err, "sampling runs/grid/models/ddim_2") == 2);
    const fs::path run_dir = dir.root / "runs/grid";
    const std::string csv = read_file(run_dir / "results.csv");
    CHECK(csv.rfind("variant,sample.sampler,nfe,sliced_wasserstein,mmd\n", 0) == 0);
    CHECK(csv.find("\nddim_10,\"{type: ddim, steps: 10}\",10,") != std::string::npos);
    CHECK(count_of(csv, "\n") == 4);
    for (const char* v : {"ddim_2", "ddim_10", "ddpm_10"}) {
        const std::string metrics = read_file(run_dir / "variants" / v / "metrics.json");
        CHECK(metrics.find("\"samples\": 128") != std::string::npos);
        CHECK(metrics.find("\"reference\": \"toy2d, 256 examples\"") != std::string::npos);
        CHECK(metrics.find("\"weights\": \"ema\"") != std::string::npos);
    }
    const std::string report = read_file(run_dir / "report.md");
    CHECK(report.find("| sliced_wasserstein(ddpm_10) <= 10 | yes |") != std::string::npos);
    CHECK_FALSE(read_file(run_dir / "sliced_wasserstein_vs_nfe.csv").empty());
    CHECK(fs::exists(run_dir / "models/ddim_2/checkpoints/latest"));
    CHECK_FALSE(fs::exists(run_dir / "models/ddim_10"));

    // The same samples whatever else the grid holds: ddim_10 alone gives its row again.
    const result alone =
        run("run grid.yaml name=alone 'variants={sample.sampler: {ddim_10: {type: ddim, steps: 10}}}'", "", dir.root);
    REQUIRE_MESSAGE(alone.exit_code == 0, alone.err);
    const std::string row = csv.substr(csv.find("\nddim_10,") + 1);
    CHECK(read_file(dir.root / "runs/alone/results.csv").find(row.substr(0, row.find('\n'))) != std::string::npos);
}

TEST_CASE("a claim that fails exits 1 naming the claim and both numbers, with the report written") {
    const scratch dir("comparison_claim");
    dir.write("grid.yaml", grid_experiment);
    const result r =
        run("run grid.yaml -q '+expect.ddpm_10={sliced_wasserstein: {less_than: {variant: ddim_10, "
            "factor: 0.01}}}'",
            "", dir.root);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("error: 1 of 4 claims of `expect:` failed:") != std::string::npos);
    CHECK(r.err.find("sliced_wasserstein(ddpm_10) < 0.01 x sliced_wasserstein(ddim_10) does not hold: "
                     "sliced_wasserstein(ddpm_10) = ") != std::string::npos);
    CHECK(read_file(dir.root / "runs/grid/report.md").find("| **no** |") != std::string::npos);

    // --resume with other claims runs nothing again and checks the new claims on the recorded metrics.
    const result resumed = run("run grid.yaml --resume", "", dir.root);
    CHECK_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(count_of(resumed.err, "already evaluated") == 3);
    CHECK(read_file(dir.root / "runs/grid/report.md").find("| **no** |") == std::string::npos);

    // Claims are checked before anything runs: a misspelt variant is a configuration error.
    const result typo = run("run grid.yaml -q --overwrite '+expect.ddpm_1={mmd: {max: 1}}'", "", dir.root);
    CHECK(typo.exit_code == 2);

    // A run without variants checks its claims against its own metrics.json.
    const result single = run("run grid.yaml -q name=single variants=~ 'expect={mmd: {max: -1}}'", "", dir.root);
    CHECK(single.exit_code == 1);
    CHECK(single.err.find("mmd <= -1 does not hold: mmd = ") != std::string::npos);
    CHECK(read_file(dir.root / "runs/single/report.md").find("| mmd <= -1 | **no** | mmd = ") != std::string::npos);
    CHECK(read_file(dir.root / "runs/single/metrics.json").find("\"mmd\": ") != std::string::npos);
}

TEST_CASE("difflab evaluate recomputes a grid's metrics from its trained model with other settings") {
    const scratch dir("comparison_evaluate");
    dir.write("grid.yaml", grid_experiment);
    REQUIRE(run("run grid.yaml -q", "", dir.root).exit_code == 0);
    const std::string before = read_file(dir.root / "runs/grid/results.csv");
    const result r = run("evaluate runs/grid evaluate.count=64 'evaluate.metrics=[mmd]' --name mmd", "", dir.root);
    CHECK(r.err.find("training") == std::string::npos);
    const fs::path out = dir.root / "runs/grid/evaluations/mmd";
    const std::string csv = read_file(out / "results.csv");
    CHECK(csv.rfind("variant,sample.sampler,nfe,mmd\n", 0) == 0);
    CHECK(read_file(out / "variants/ddim_10/metrics.json").find("\"samples\": 64") != std::string::npos);
    CHECK(read_file(dir.root / "runs/grid/results.csv") == before);  // the run's own results stay
    // evaluate checks the claims as run does: that on sliced_wasserstein, no longer computed, fails.
    CHECK(r.exit_code == 1);
    CHECK(read_file(out / "report.md").find("sliced_wasserstein(ddim_2) was not computed") != std::string::npos);

    // Without a name, the overrides name the directory.
    REQUIRE(run("evaluate runs/grid -q evaluate.count=32 expect=~", "", dir.root).exit_code == 0);
    CHECK(fs::exists(dir.root / "runs/grid/evaluations/evaluate.count=32,expect=_/results.csv"));
}

TEST_CASE("train.init_from starts a run from another run's checkpoint, refusing a different network") {
    const scratch dir("comparison_init");
    dir.write("grid.yaml", grid_experiment);
    REQUIRE(run("run grid.yaml -q name=base variants=~ expect=~", "", dir.root).exit_code == 0);
    const result reuse = run("run grid.yaml name=reuse train.init_from=runs/base", "", dir.root);
    REQUIRE_MESSAGE(reuse.exit_code == 0, reuse.err);
    CHECK(reuse.err.find("train: starting from step 30 of runs/base") != std::string::npos);
    CHECK(count_of(reuse.err, "training  ") == 0);  // no optimizer step
    const result other = run("run grid.yaml -q name=other train.init_from=runs/base network.hidden=16", "", dir.root);
    CHECK(other.exit_code == 2);
    CHECK(other.err.find("train.init_from: that run trained with another network") != std::string::npos);
}

TEST_CASE("generation spends sample.nfe: each sampler's steps fit the budget, refusals are listed as not run") {
    const scratch dir("comparison_nfe");
    dir.write("grid.yaml", grid_experiment);
    const result r =
        run("run grid.yaml name=budgets 'variants={sample.sampler: {ddim: {type: ddim}, edm: {type: edm}, langevin: "
            "{type: annealed_langevin}}, sample.nfe: [3, 10]}' 'expect=~'",
            "", dir.root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const fs::path run_dir = dir.root / "runs/budgets";
    // EDM's Heun steps cost 2N - 1 evaluations: 2 noise levels in 3, 5 in 10 (9 spent).
    const std::string csv = read_file(run_dir / "results.csv");
    CHECK(csv.find("\n\"ddim, nfe=3\",{type: ddim},3,3,") != std::string::npos);
    CHECK(csv.find("\n\"edm, nfe=3\",{type: edm},3,3,") != std::string::npos);
    CHECK(csv.find("\n\"edm, nfe=10\",{type: edm},10,9,") != std::string::npos);
    CHECK(csv.find("\n\"langevin, nfe=3\",{type: annealed_langevin},3,,,\n") != std::string::npos);
    CHECK(read_file(run_dir / "variants/edm_nfe=10/metrics.json").find("{type: edm, steps: 5,") != std::string::npos);
    const std::string report = read_file(run_dir / "report.md");
    CHECK(report.find("## Variants not run") != std::string::npos);
    CHECK(report.find("- langevin, nfe=3: ") != std::string::npos);
}
