// SPDX-License-Identifier: Apache-2.0
// `expect:` — reproduction claims on metric values, checked when a run ends.
#pragma once

#include <difflab/diffusion/metric.h>
#include <difflab/plugin/config_node.h>

#include <string>
#include <utility>
#include <vector>

namespace difflab {

/// One claim of `expect:`. Written as
///   METRIC: {min: A, max: B}                          on every variant (or the single run)
///   VARIANT: {METRIC: {min: A, max: B}}               on one variant
///   VARIANT: {METRIC: {less_than: OTHER}}             METRIC(VARIANT) < METRIC(OTHER)
///   VARIANT: {METRIC: {less_than: {variant: OTHER, factor: 1.1}}}   ... < 1.1 METRIC(OTHER)
///   METRIC: {greater_than: {metric: METRIC2}}          METRIC > METRIC2 within every variant
///   VARIANT: {METRIC: {less_than: {variant: OTHER, metric: METRIC2}}}   METRIC(VARIANT) < METRIC2(OTHER)
/// and greater_than likewise. VARIANT and OTHER are variant labels (variants.h).
struct claim {
    enum class relation { at_least, at_most, less_than, greater_than };
    std::string variant;  ///< empty: every variant
    std::string metric;
    relation kind = relation::at_most;
    double bound = 0;          ///< for at_least / at_most
    std::string other;         ///< for less_than / greater_than; empty: the claim's own variant
    std::string other_metric;  ///< for less_than / greater_than; empty: `metric`
    double factor = 1;         ///< the other's value is scaled by this
    source_mark where;

    /// "fid <= 60", "fid(ddim_10) < fid(ddpm_10)", "fid(dpm_10) < 1.1 x fid(ddim_50)",
    /// "dice_n5 > dice_n1".
    std::string text() const;
};

/// Parses `expect:` against the variant labels (empty for a run without variants); errors
/// point into the file and name the valid labels.
std::vector<claim> parse_claims(const config_node& expect, const std::vector<std::string>& variant_labels);

/// A claim checked: whether it held, and the numbers it compared ("fid(ddim_10) = 41.2,
/// fid(ddpm_10) = 63.0"), or why it could not be checked.
struct claim_outcome {
    claim checked;
    bool held = false;
    std::string detail;
};

/// Checks each claim against the values per variant label (label "" for a run without
/// variants). A metric missing from a variant fails its claim, saying so.
std::vector<claim_outcome> check_claims(const std::vector<claim>& claims,
                                        const std::vector<std::pair<std::string, metric_values>>& results);

}  // namespace difflab
