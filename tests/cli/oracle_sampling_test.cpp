// SPDX-License-Identifier: Apache-2.0
// The oracle_sampling task on a variant grid through `difflab run`: results.csv, pivot tables,
// refused pairs as variants not run, plots, and a conformance bound failing the run.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

using namespace cli_test;

namespace {

const char* common = R"(seed: 1
data: {type: gmm, shape: [2], components: 3, seed: 2}
task: {type: oracle_sampling, reference_count: 20}
sample: {count: 200}
evaluate: {metrics: [sliced_wasserstein]}
)";

const char* grid = R"(name: compare
variants:
  process: {vp_sde: vp_sde, ve_sde: ve_sde, ddpm: ddpm}
  sample.sampler:
    ddim: ddim
    langevin: {type: annealed_langevin, steps_each: 2}
    rk45: {type: ode, method: rk45, rtol: 1.0e-3, atol: 1.0e-3}
  sample.nfe: [5, 10, 0]
  exclude:
    - {sample.sampler: rk45, sample.nfe: {not: nfe=0}}
    - {sample.sampler: {not: rk45}, sample.nfe: nfe=0}
)";

/// The rows of a CSV file split into fields (quoted fields may hold commas).
std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::vector<std::string> fields{""};
        bool quoted = false;
        for (char c : line) {
            if (c == '"')
                quoted = !quoted;
            else if (c == ',' && !quoted)
                fields.emplace_back();
            else
                fields.back() += c;
        }
        rows.push_back(fields);
    }
    return rows;
}

bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("an oracle grid writes results.csv, pivot tables per process, refusals as variants not run, and plots") {
    const scratch dir("oracle_sampling");
    dir.write("compare.yaml", std::string(common) + grid);
    const result r = run("run compare.yaml -q", "", dir.root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const fs::path run_dir = dir.root / "runs" / "compare";
    const auto rows = csv_rows(read_file(run_dir / "results.csv"));
    REQUIRE(rows.size() == 16);  // header; 3 processes x (ddim x 2 budgets, langevin x 2, rk45 as configured)
    CHECK(rows[0] == std::vector<std::string>{"variant", "process", "sample.sampler", "sample.nfe", "nfe",
                                              "sliced_wasserstein", "sliced_wasserstein_floor", "mean_error",
                                              "covariance_error", "ode_error", "steps"});
    int ddim = 0, langevin = 0, refused = 0, adaptive = 0;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& row = rows[i];
        REQUIRE(row.size() == 11);
        CAPTURE(row[0]);
        if (row[2] == "ddim") {
            ++ddim;
            CHECK(row[4] == row[3]);  // one evaluation per step: the budget exactly
            CHECK(row[10] == row[3]);
            CHECK(std::stod(row[5]) > 0);
            CHECK_FALSE(row[9].empty());  // deterministic: compared with the ODE solution
        } else if (row[1] != "ve_sde" && row[3] != "0") {
            ++refused;  // annealed Langevin is defined for variance-exploding processes only
            for (std::size_t k = 4; k < row.size(); ++k) CHECK(row[k].empty());
        } else if (row[3] != "0") {
            ++langevin;
            CHECK(row[4] == (row[3] == "5" ? "5" : "9"));  // 2 levels x 2 + 1, 4 levels x 2 + 1
            CHECK(row[9].empty());                         // stochastic: no ODE error
        } else {
            ++adaptive;
            CHECK(std::stoi(row[4]) > 10);  // as configured: what its tolerances cost
            CHECK(row[10] == "0");
        }
    }
    CHECK(ddim == 6);
    CHECK(langevin == 2);
    CHECK(refused == 4);
    CHECK(adaptive == 3);
    // DDIM's error to the exact ODE solution falls from 5 to 10 steps on every process.
    for (const auto& row : rows)
        if (row[2] == "ddim" && row[3] == "5")
            for (const auto& other : rows)
                if (other[2] == "ddim" && other[1] == row[1] && other[3] == "10")
                    CHECK(std::stod(other[9]) < std::stod(row[9]));

    const std::string report = read_file(run_dir / "report.md");
    CHECK(has(report, "## process vp_sde"));
    CHECK(has(report, "| sampler | NFE 5 | NFE 10 | as configured |"));
    CHECK(has(report, "`sliced_wasserstein`:"));
    CHECK(has(report, "`sliced_wasserstein_floor` = "));
    CHECK(has(report, "## Variants not run"));
    CHECK(has(report,
              "- ddpm, langevin, nfe=5: sampler 'annealed_langevin' is defined for variance-exploding "
              "processes"));
    CHECK(read_file(run_dir / "sliced_wasserstein_vs_nfe_0_vp_sde.csv").rfind("series,x,y\n", 0) == 0);
    CHECK(has(read_file(run_dir / "sliced_wasserstein_vs_nfe_0_vp_sde.csv"), "sliced_wasserstein_floor,"));
    CHECK(read_file(run_dir / "ode_error_vs_nfe_0_vp_sde.png").rfind("\x89PNG", 0) == 0);  // tools/setup: gnuplot
}

TEST_CASE("a pair that does not apply is a configuration error in a single run") {
    const scratch dir("oracle_sampling_single");
    dir.write("one.yaml", std::string(common) + "name: one\nprocess: vp_sde\n");
    const result refused = run("run one.yaml -q sample.sampler=annealed_langevin", "", dir.root);
    CHECK(refused.exit_code == 2);
    CHECK(has(refused.err, "sampler 'annealed_langevin' is defined for variance-exploding processes"));
    const result budget =
        run("run one.yaml -q --overwrite 'sample.sampler={type: pc, norms: expected}' sample.nfe=1", "", dir.root);
    CHECK(budget.exit_code == 2);
    CHECK(has(budget.err, "sample.nfe = 1 is below one step of sampler 'pc' on this process (2 evaluations)"));
    const result ok =
        run("run one.yaml -q --overwrite 'sample.sampler={type: ode, method: rk4}' sample.nfe=10", "", dir.root);
    REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
    const std::string metrics = read_file(dir.root / "runs/one/metrics.json");
    CHECK(has(metrics, "\"nfe\": 9.0"));  // 3 steps of RK4: 4 + 4 + 1
    CHECK(has(metrics, "\"steps\": 3.0"));
}

TEST_CASE("a conformance bound that a variant misses fails the run with exit 1, the report written") {
    const scratch dir("oracle_conformance");
    dir.write(
        "bound.yaml",
        std::string(common) +
            "name: bound\nvariants:\n  process: {vp_sde: vp_sde, ve_sde: ve_sde, ddpm: ddpm}\n"
            "  sample.sampler: {ddim: ddim, langevin: {type: annealed_langevin, steps_each: 2}}\n  sample.nfe: [5]\n"
            "expect: {sliced_wasserstein: {max: 0.01}}\n");
    const result r = run("run bound.yaml -q", "", dir.root);
    CHECK(r.exit_code == 1);
    // Every variant that ran is bound; the refused pairs are not.
    CHECK(has(r.err, "error: 4 of 4 claims of `expect:` failed:"));
    CHECK(has(r.err, "sliced_wasserstein(vp_sde, ddim, nfe=5) <= 0.01 does not hold"));
    const std::string report = read_file(dir.root / "runs" / "bound" / "report.md");
    CHECK(has(report, "| sliced_wasserstein(ve_sde, langevin, nfe=5) <= 0.01 | **no** |"));
    CHECK(has(report, "## Variants not run"));
}
