// SPDX-License-Identifier: Apache-2.0
// The sampler_comparison task through `difflab run`: its files, and a conformance bound failing the run.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

using namespace cli_test;

namespace {

const char* experiment = R"(name: compare
seed: 1
data: {type: gmm, shape: [2], components: 3, seed: 2}
task:
  type: sampler_comparison
  nfe: [5, 10]
  count: 200
  reference_count: 20
  processes: [vp_sde, ve_sde, ddpm]
  samplers: [ddim, {type: annealed_langevin, steps_each: 2}, {type: ode, method: rk45, rtol: 1.0e-3, atol: 1.0e-3}]
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

}  // namespace

TEST_CASE("sampler_comparison writes results.csv, a report with refusals, and plots") {
    const scratch dir("sampler_comparison");
    dir.write("compare.yaml", experiment);
    const result r = run("run compare.yaml -q", "", dir.root);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    const fs::path run_dir = dir.root / "runs" / "compare";
    const auto rows = csv_rows(read_file(run_dir / "results.csv"));
    REQUIRE(rows.size() == 12);  // header; ddim 3 processes x 2 budgets, annealed_langevin ve_sde x 2, rk45 x 3
    CHECK(rows[0] == std::vector<std::string>{"process", "sampler", "budget", "nfe", "steps", "sliced_w2", "mean_error",
                                              "covariance_error", "ode_error", "seconds"});
    int ddim = 0, langevin = 0, adaptive = 0;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& row = rows[i];
        REQUIRE(row.size() == 10);
        CAPTURE(row[0]);
        CAPTURE(row[1]);
        CHECK(std::stod(row[5]) > 0);  // every cell has a sliced W2
        if (row[1] == "ddim") {
            ++ddim;
            CHECK(row[3] == row[2]);      // one evaluation per step: the budget exactly
            CHECK_FALSE(row[8].empty());  // deterministic: compared with the ODE solution
        } else if (row[1] == "annealed_langevin (steps_each: 2)") {
            ++langevin;
            CHECK(row[0] == "ve_sde");
            CHECK(row[3] == (row[2] == "5" ? "5" : "9"));  // 2 levels x 2 + 1, 4 levels x 2 + 1
            CHECK(row[8].empty());                         // stochastic: no ODE error
        } else {
            ++adaptive;
            CHECK(row[2] == "0");  // run as configured
            CHECK(std::stoi(row[3]) > 10);
        }
    }
    CHECK(ddim == 6);
    CHECK(langevin == 2);
    CHECK(adaptive == 3);
    // DDIM's error to the exact ODE solution falls from 5 to 10 steps on every process.
    for (std::size_t i = 1; i < rows.size(); ++i)
        if (rows[i][1] == "ddim" && rows[i][2] == "5")
            for (const auto& other : rows)
                if (other[1] == "ddim" && other[0] == rows[i][0] && other[2] == "10")
                    CHECK(std::stod(other[8]) < std::stod(rows[i][8]));

    const std::string report = read_file(run_dir / "report.md");
    CHECK(report.find("## process vp_sde") != std::string::npos);
    CHECK(report.find("## Pairs not defined") != std::string::npos);
    CHECK(report.find("- annealed_langevin (steps_each: 2) on ddpm: error: sampler 'annealed_langevin' is defined "
                      "for variance-exploding processes") != std::string::npos);
    CHECK(read_file(run_dir / "sliced_w2_0_vp_sde.csv").rfind("series,x,y\n", 0) == 0);
    CHECK(read_file(run_dir / "sliced_w2_0_vp_sde.png").rfind("\x89PNG", 0) == 0);  // tools/setup installs gnuplot
}

TEST_CASE("a conformance bound that a cell misses fails the run with exit 1, the report written") {
    const scratch dir("sampler_conformance");
    dir.write("compare.yaml", experiment);
    const result r =
        run("run compare.yaml -q task.max_sliced_w2=0.01 'task.samplers=[ddim]' 'task.nfe=[5]'", "", dir.root);
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("error: 3 of 3 cells exceed max_sliced_w2 = 0.01, first: ddim on vp_sde at NFE 5") == 0);
    CHECK(read_file(dir.root / "runs" / "compare" / "report.md").find("0 of 3 cells within sliced W2 <= 0.01") !=
          std::string::npos);
}
