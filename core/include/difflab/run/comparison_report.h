// SPDX-License-Identifier: Apache-2.0
// A variant grid's report: results.csv, a markdown table, plots against NFE and numeric axes, claims.
#pragma once

#include <difflab/run/claims.h>
#include <difflab/run/evaluation.h>
#include <difflab/run/variants.h>

#include <filesystem>
#include <string>
#include <vector>

namespace difflab {

/// One variant's outcome, as the grid report reads it.
struct variant_outcome {
    const experiment_variant* variant = nullptr;
    std::filesystem::path dir;  ///< its outputs (grid.png, metrics.json)
    recorded_metrics metrics;   ///< empty values when it computed none
    std::string not_run;        ///< why the variant does not apply (variant_not_applicable); empty when it ran
};

/// Writes into `dir`: results.csv (variant, one column per axis, nfe, one per metric value),
/// one plot per metric against NFE when the variants differ in NFE, with a line per sampler
/// type and value of the axes that do not set the sampler; one per metric against each numeric
/// axis whose values differ (`<metric>_vs_<last key>`, a line per combination of the other
/// axes), CSV always and PNG with gnuplot; and report.md: the table, the plots, each variant's
/// sample grid, and the claims with their numbers.
void write_comparison_report(const std::filesystem::path& dir, const std::string& title,
                             const std::vector<variant_outcome>& outcomes, const std::vector<claim_outcome>& claims);

/// The markdown section listing claims and whether each held.
std::string claims_markdown(const std::vector<claim_outcome>& claims);

}  // namespace difflab
