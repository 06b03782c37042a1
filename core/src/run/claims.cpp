// SPDX-License-Identifier: Apache-2.0
// Parsing and checking `expect:` claims.
#include <difflab/base/suggest.h>
#include <difflab/plugin/params.h>
#include <difflab/run/claims.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace difflab {

namespace {

const std::vector<std::string> relation_keys = {"greater_than", "less_than", "max", "min"};  // sorted, for errors

double number_at(const config_node& node, const std::string& what) {
    const parse_context ctx;
    return detail::parse_float(node, ctx, what);
}

std::string check_label(const config_node& node, const std::vector<std::string>& labels) {
    if (!node.is_scalar()) throw config_error(node.mark(), "a variant label is expected here");
    if (std::find(labels.begin(), labels.end(), node.text()) == labels.end())
        throw config_error(
            node.mark(),
            fmt::format("'{}' is not a variant of this experiment{}", node.text(), did_you_mean(node.text(), labels)),
            {"variants: " + (labels.empty() ? std::string("(none)") : join(labels))});
    return node.text();
}

/// METRIC: {min: A, max: B, less_than: OTHER, ...} for `variant` ("" for all).
void parse_metric_claims(const std::string& variant, const std::string& metric, const config_node& bounds,
                         const std::vector<std::string>& labels, std::vector<claim>& out) {
    if (!bounds.is_map())
        throw config_error(bounds.mark(),
                           fmt::format("expect '{}' needs a map of bounds, got {}", metric, bounds.kind_text()),
                           {fmt::format("for example: {}: {{max: 60}}", metric)});
    for (const config_node::entry& e : bounds.entries()) {
        claim c;
        c.variant = variant;
        c.metric = metric;
        c.where = e.key_mark.known() ? e.key_mark : e.value.mark();
        const std::string path = "expect." + (variant.empty() ? "" : variant + ".") + metric + "." + e.key;
        if (e.key == "min" || e.key == "max") {
            c.kind = e.key == "min" ? claim::relation::at_least : claim::relation::at_most;
            c.bound = number_at(e.value, path);
        } else if (e.key == "less_than" || e.key == "greater_than") {
            c.kind = e.key == "less_than" ? claim::relation::less_than : claim::relation::greater_than;
            if (e.value.is_map()) {
                for (const config_node::entry& o : e.value.entries())
                    if (o.key != "variant" && o.key != "metric" && o.key != "factor")
                        throw config_error(o.key_mark, fmt::format("unknown key '{}' in {}", o.key, path),
                                           {"valid keys: factor, metric, variant"});
                const config_node* other = e.value.find("variant");
                const config_node* other_metric = e.value.find("metric");
                if (!other && !other_metric)
                    throw config_error(e.value.mark(), fmt::format("{} needs 'variant', 'metric' or both", path));
                if (other) c.other = check_label(*other, labels);
                if (other_metric) {
                    if (!other_metric->is_scalar() || other_metric->text().empty())
                        throw config_error(other_metric->mark(), fmt::format("{}.metric needs a metric name", path));
                    c.other_metric = other_metric->text();
                }
                if (const config_node* factor = e.value.find("factor")) c.factor = number_at(*factor, path + ".factor");
            } else {
                c.other = check_label(e.value, labels);
            }
            if (variant.empty() && !c.other.empty())
                throw config_error(c.where, fmt::format("'{}' compares one variant with another", e.key),
                                   {fmt::format("write it under the variant: expect: {{VARIANT: {{{}: {{{}: "
                                                "OTHER}}}}}}, or compare two metrics of each variant: {}: "
                                                "{{{}: {{metric: OTHER_METRIC}}}}",
                                                metric, e.key, metric, e.key)});
        } else {
            throw config_error(
                c.where, fmt::format("unknown bound '{}' for {}{}", e.key, metric, did_you_mean(e.key, relation_keys)),
                {"valid bounds: " + join(relation_keys)});
        }
        out.push_back(c);
    }
}

std::optional<double> value_of(const std::vector<std::pair<std::string, metric_values>>& results,
                               const std::string& variant, const std::string& metric) {
    for (const auto& [label, values] : results) {
        if (label != variant) continue;
        for (const auto& [name, value] : values)
            if (name == metric) return value;
    }
    return std::nullopt;
}

std::string named(const std::string& metric, const std::string& variant) {
    return variant.empty() ? metric : fmt::format("{}({})", metric, variant);
}

claim_outcome check_one(const claim& c, const std::string& variant,
                        const std::vector<std::pair<std::string, metric_values>>& results) {
    claim_outcome outcome{c, false, ""};
    outcome.checked.variant = variant;
    const auto mine = value_of(results, variant, c.metric);
    const bool ran = std::any_of(results.begin(), results.end(), [&](const auto& r) { return r.first == variant; });
    if (!ran) {
        outcome.detail = fmt::format("variant {} was not run (see report.md, Variants not run)", variant);
        return outcome;
    }
    if (!mine) {
        outcome.detail =
            fmt::format("{} was not computed; add its metric to evaluate.metrics", named(c.metric, variant));
        return outcome;
    }
    switch (c.kind) {
        case claim::relation::at_least:
        case claim::relation::at_most: {
            const bool low = c.kind == claim::relation::at_least;
            outcome.held = low ? *mine >= c.bound : *mine <= c.bound;
            outcome.detail = fmt::format("{} = {:.4g}", named(c.metric, variant), *mine);
            return outcome;
        }
        case claim::relation::less_than:
        case claim::relation::greater_than: {
            const std::string& other = c.other.empty() ? variant : c.other;
            const std::string& other_metric = c.other_metric.empty() ? c.metric : c.other_metric;
            const auto theirs = value_of(results, other, other_metric);
            if (!theirs) {
                outcome.detail = fmt::format("{} was not computed", named(other_metric, other));
                return outcome;
            }
            const double scaled = c.factor * *theirs;
            const bool less = c.kind == claim::relation::less_than;
            outcome.held = less ? *mine < scaled : *mine > scaled;
            outcome.detail =
                fmt::format("{} = {:.4g}, {}{} = {:.4g}", named(c.metric, variant), *mine,
                            c.factor == 1 ? "" : fmt::format("{:g} x ", c.factor), named(other_metric, other), scaled);
            return outcome;
        }
    }
    return outcome;
}

}  // namespace

std::string claim::text() const {
    const std::string me = named(metric, variant);
    switch (kind) {
        case relation::at_least:
            return fmt::format("{} >= {:g}", me, bound);
        case relation::at_most:
            return fmt::format("{} <= {:g}", me, bound);
        case relation::less_than:
        case relation::greater_than:
            return fmt::format("{} {} {}{}", me, kind == relation::less_than ? "<" : ">",
                               factor == 1 ? "" : fmt::format("{:g} x ", factor),
                               named(other_metric.empty() ? metric : other_metric, other.empty() ? variant : other));
    }
    return me;
}

std::vector<claim> parse_claims(const config_node& expect, const std::vector<std::string>& variant_labels) {
    std::vector<claim> out;
    if (expect.is_null() || (expect.is_scalar() && expect.text().empty())) return out;  // none, or `expect=~`
    if (!expect.is_map())
        throw config_error(expect.mark(), fmt::format("'expect' expects a map, got {}", expect.kind_text()),
                           {"for example: expect: {fid: {max: 60}}"});
    for (const config_node::entry& e : expect.entries()) {
        const bool is_variant = std::find(variant_labels.begin(), variant_labels.end(), e.key) != variant_labels.end();
        if (!is_variant) {
            parse_metric_claims("", e.key, e.value, variant_labels, out);
            continue;
        }
        if (!e.value.is_map())
            throw config_error(e.value.mark(),
                               fmt::format("expect '{}' needs a map of metrics, got {}", e.key, e.value.kind_text()));
        for (const config_node::entry& m : e.value.entries())
            parse_metric_claims(e.key, m.key, m.value, variant_labels, out);
    }
    return out;
}

std::vector<claim_outcome> check_claims(const std::vector<claim>& claims,
                                        const std::vector<std::pair<std::string, metric_values>>& results) {
    std::vector<claim_outcome> out;
    for (const claim& c : claims) {
        if (!c.variant.empty()) {
            out.push_back(check_one(c, c.variant, results));
            continue;
        }
        for (const auto& [label, values] : results) out.push_back(check_one(c, label, results));
    }
    return out;
}

}  // namespace difflab
