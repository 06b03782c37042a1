// SPDX-License-Identifier: Apache-2.0
// Scalar conversions and the error messages of parameter parsing.
#include <difflab/base/suggest.h>
#include <difflab/plugin/params.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace difflab {

std::string parse_context::key_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
}

parse_context parse_context::nested(const std::string& key, std::string owner) const {
    parse_context inner(resolver_);
    inner.path_ = key_path(key);
    inner.owner_ = std::move(owner);
    return inner;
}

constraint<std::string> one_of(std::vector<std::string> choices) {
    return {join(choices, "|"), [choices](const std::string& v) {
                for (const std::string& c : choices)
                    if (c == v) return true;
                return false;
            }};
}

constraint<std::string> non_empty() {
    return {"non-empty", [](const std::string& v) { return !v.empty(); }};
}

parse_context parse_context::owned_by(std::string owner) const {
    parse_context same = *this;
    same.owner_ = std::move(owner);
    return same;
}

namespace detail {

void throw_type_error(const config_node& node, const parse_context& ctx, const std::string& key,
                      const std::string& expected) {
    throw config_error(node.mark(),
                       fmt::format("'{}' expects {}, got {}", ctx.key_path(key), expected, node.kind_text()));
}

bool parse_bool(const config_node& node, const parse_context& ctx, const std::string& key) {
    if (node.is_scalar() && !node.quoted()) {
        const std::string& t = node.text();
        if (t == "true" || t == "True" || t == "TRUE") return true;
        if (t == "false" || t == "False" || t == "FALSE") return false;
    }
    throw_type_error(node, ctx, key, "true or false");
}

std::int64_t parse_int(const config_node& node, const parse_context& ctx, const std::string& key) {
    if (node.is_scalar() && !node.quoted() && !node.text().empty()) {
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(node.text().c_str(), &end, 10);
        if (errno == 0 && *end == '\0') return v;
    }
    throw_type_error(node, ctx, key, "an integer");
}

double parse_float(const config_node& node, const parse_context& ctx, const std::string& key) {
    if (node.is_scalar() && !node.quoted() && !node.text().empty()) {
        const std::string& t = node.text();
        if (t == ".inf" || t == "inf") return INFINITY;
        if (t == "-.inf" || t == "-inf") return -INFINITY;
        errno = 0;
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        if (errno == 0 && *end == '\0' && std::isfinite(v)) return v;
    }
    throw_type_error(node, ctx, key, "a number");
}

std::string parse_string(const config_node& node, const parse_context& ctx, const std::string& key) {
    if (node.is_scalar()) return node.text();
    throw_type_error(node, ctx, key, "a string");
}

std::string float_text(double value) {
    if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
    std::string s = fmt::format("{}", value);
    // Keep floats recognisable as floats in YAML ("1.0", not "1").
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
}

config_node parse_component(const std::string& kind, const config_node& node, const parse_context& ctx,
                            const std::string& key) {
    if (node.is_null()) return node;  // `noise: ~` (as resolved files write an absent component): none
    config_node written = node;
    if (node.is_scalar()) {  // `sampler: ddim` is short for `sampler: {type: ddim}`
        written = config_node::map(node.mark());
        written.set("type", node, node.mark());
    }
    if (!written.is_map() || !written.find("type"))
        throw config_error(
            node.mark(),
            fmt::format("'{}' expects a {} with a 'type' key, got {}", ctx.key_path(key), kind, node.kind_text()),
            {fmt::format("for example: {}: {{type: NAME, ...}}; `difflab plugins` lists the {} types", key, kind)});
    if (!ctx.resolver()) return written;
    return ctx.resolver()->resolve(kind, written, ctx.nested(key, kind));
}

void throw_constraint_error(const config_node& node, const parse_context& ctx, const std::string& key,
                            const std::string& value, const std::string& constraint_text) {
    throw config_error(
        node.mark(),
        fmt::format("'{}' is {}, which is out of range; it must be {}", ctx.key_path(key), value,
                    constraint_text.find('|') != std::string::npos ? "one of " + constraint_text : constraint_text));
}

void throw_unknown_key(const config_node::entry& entry, const parse_context& ctx,
                       const std::vector<std::string>& valid_keys) {
    std::vector<std::string> sorted = valid_keys;
    std::sort(sorted.begin(), sorted.end());
    const source_mark where = entry.key_mark.known() ? entry.key_mark : entry.value.mark();
    throw config_error(
        where, fmt::format("unknown key '{}' for {}{}", entry.key, ctx.owner(), did_you_mean(entry.key, valid_keys)),
        {"valid keys: " + (sorted.empty() ? std::string("(none)") : join(sorted))});
}

void throw_missing_key(const config_node& map, const parse_context& ctx, const param_info& info) {
    throw config_error(map.mark(), fmt::format("missing required key '{}' for {}", ctx.key_path(info.key), ctx.owner()),
                       {fmt::format("{} ({}): {}", info.key, info.type, info.doc)});
}

void throw_not_a_map(const config_node& node, const parse_context& ctx) {
    throw config_error(node.mark(),
                       fmt::format("{} expects a map of keys, got {}",
                                   ctx.path().empty() ? ctx.owner() : "'" + ctx.path() + "'", node.kind_text()));
}

}  // namespace detail
}  // namespace difflab
