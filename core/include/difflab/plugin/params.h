// SPDX-License-Identifier: Apache-2.0
// Parameter tables: one options struct per component, described once by params(), from which
// parsing, validation, documentation and the resolved configuration all follow
// (after MOOSE's validParams and LibTorch's options structs).
#pragma once

#include <difflab/base/error.h>
#include <difflab/plugin/config_node.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace difflab {

// ---------------------------------------------------------------------------------------------
// Description of one key, shared by `describe`, the generated reference and error messages.

struct param_info {
    std::string key;
    std::string type;             ///< "int", "float", "bool", "string", "list[int]", "sampler", "section", ...
    std::string default_text;     ///< the default as YAML would show it; "" when required
    std::string constraint_text;  ///< ">= 1", "[0, 1]", "a|b|c"; "" when unconstrained
    std::string doc;
    bool required = false;
    std::vector<param_info> fields;  ///< the keys of a nested section
};

// ---------------------------------------------------------------------------------------------
// Resolution of nested components (implemented by the registry).

class parse_context;

/// Validates a component node of a given kind and returns it resolved: `type` first, then
/// every option with defaults filled in.
class component_resolver {
public:
    virtual ~component_resolver() = default;
    virtual config_node resolve(const std::string& kind, const config_node& node, const parse_context& ctx) const = 0;
};

/// Where parsing is: the key path for messages ("sample.sampler") and what owns the keys
/// ("sampler 'ddim'"). Without a resolver nested components are checked for shape only.
class parse_context {
public:
    explicit parse_context(const component_resolver* resolver = nullptr) : resolver_(resolver) {}

    const component_resolver* resolver() const { return resolver_; }
    const std::string& path() const { return path_; }
    const std::string& owner() const { return owner_; }

    /// "path.key" (or "key" at the top).
    std::string key_path(const std::string& key) const;
    /// The context one level down, under `key`, whose keys belong to `owner`.
    parse_context nested(const std::string& key, std::string owner) const;
    /// The same place, with keys that belong to `owner`.
    parse_context owned_by(std::string owner) const;

private:
    const component_resolver* resolver_;
    std::string path_;
    std::string owner_ = "experiment";
};

// ---------------------------------------------------------------------------------------------
// Constraints.

template <class T>
struct constraint {
    std::string text;  ///< shown in tables and errors
    std::function<bool(const T&)> ok;
};

template <class T>
constraint<T> at_least(T low);
template <class T>
constraint<T> at_most(T high);
template <class T>
constraint<T> greater_than(T low);
template <class T>
constraint<T> closed_range(T low, T high);
constraint<std::string> one_of(std::vector<std::string> choices);
constraint<std::string> non_empty();

// ---------------------------------------------------------------------------------------------
// Nested components.

/// A nested component in an options struct: `sampler: {type: ddim, steps: 20}` or just
/// `sampler: ddim`. After parsing with a resolver it holds the resolved node, which
/// build_context::create turns into the component.
template <class Kind>
class component_ref {
public:
    using kind_type = Kind;

    component_ref() = default;
    /// A reference that defaults to `default_type` with all its defaults.
    explicit component_ref(std::string default_type) : node_(default_node(std::move(default_type))) {}

    bool present() const { return node_.is_map(); }
    std::string type() const;
    const config_node& node() const { return node_; }
    void set_node(config_node node) { node_ = std::move(node); }

private:
    static config_node default_node(std::string type);
    config_node node_;
};

// ---------------------------------------------------------------------------------------------
// Value conversion for every supported parameter type.

namespace detail {

[[noreturn]] void throw_type_error(const config_node& node, const parse_context& ctx, const std::string& key,
                                   const std::string& expected);
bool parse_bool(const config_node& node, const parse_context& ctx, const std::string& key);
std::int64_t parse_int(const config_node& node, const parse_context& ctx, const std::string& key);
double parse_float(const config_node& node, const parse_context& ctx, const std::string& key);
std::string parse_string(const config_node& node, const parse_context& ctx, const std::string& key);
std::string float_text(double value);
config_node parse_component(const std::string& kind, const config_node& node, const parse_context& ctx,
                            const std::string& key);

template <class T>
struct is_component_ref : std::false_type {};
template <class Kind>
struct is_component_ref<component_ref<Kind>> : std::true_type {};

template <class T, class Enable = void>
struct value_traits;

template <>
struct value_traits<bool> {
    static std::string name() { return "bool"; }
    static bool parse(const config_node& n, const parse_context& c, const std::string& k) {
        return parse_bool(n, c, k);
    }
    static std::string text(bool v) { return v ? "true" : "false"; }
    static config_node emit(bool v) { return config_node::scalar(text(v)); }
};

template <class T>
struct value_traits<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
    static std::string name() { return "int"; }
    static T parse(const config_node& n, const parse_context& c, const std::string& k) {
        const std::int64_t v = parse_int(n, c, k);
        bool fits = true;
        if constexpr (std::is_signed_v<T>) {
            fits = v >= static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                   v <= static_cast<std::int64_t>(std::numeric_limits<T>::max());
        } else {
            fits = v >= 0 && static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
        }
        if (!fits) throw_type_error(n, c, k, "an integer that fits " + name());
        return static_cast<T>(v);
    }
    static std::string text(T v) { return std::to_string(v); }
    static config_node emit(T v) { return config_node::scalar(text(v)); }
};

template <>
struct value_traits<double> {
    static std::string name() { return "float"; }
    static double parse(const config_node& n, const parse_context& c, const std::string& k) {
        return parse_float(n, c, k);
    }
    static std::string text(double v) { return float_text(v); }
    static config_node emit(double v) { return config_node::scalar(text(v)); }
};

template <>
struct value_traits<std::string> {
    static std::string name() { return "string"; }
    static std::string parse(const config_node& n, const parse_context& c, const std::string& k) {
        return parse_string(n, c, k);
    }
    static std::string text(const std::string& v) { return v; }
    static config_node emit(const std::string& v) { return config_node::scalar(v, {}, true); }
};

template <class Kind>
struct value_traits<component_ref<Kind>> {
    static std::string name() { return Kind::kind_name; }
    static component_ref<Kind> parse(const config_node& n, const parse_context& c, const std::string& k) {
        component_ref<Kind> ref;
        ref.set_node(parse_component(Kind::kind_name, n, c, k));
        return ref;
    }
    static std::string text(const component_ref<Kind>& v) { return v.present() ? v.type() : ""; }
    static config_node emit(const component_ref<Kind>& v) { return v.node(); }
};

/// A YAML value kept as written, for sections with their own grammar (`expect:`, `variants:`)
/// that their owner validates.
template <>
struct value_traits<config_node> {
    static std::string name() { return "YAML"; }
    static config_node parse(const config_node& n, const parse_context&, const std::string&) { return n; }
    static std::string text(const config_node& v) { return v.is_scalar() ? v.text() : v.kind_text(); }
    static config_node emit(const config_node& v) { return v; }
};

template <class T>
struct value_traits<std::vector<T>> {
    static std::string name() { return "list[" + value_traits<T>::name() + "]"; }
    static std::vector<T> parse(const config_node& n, const parse_context& c, const std::string& k) {
        if (!n.is_sequence()) throw_type_error(n, c, k, "a list of " + value_traits<T>::name());
        std::vector<T> out;
        for (std::size_t i = 0; i < n.items().size(); ++i)
            out.push_back(value_traits<T>::parse(n.items()[i], c, k + "[" + std::to_string(i) + "]"));
        return out;
    }
    static std::string text(const std::vector<T>& v) {
        std::string s = "[";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + value_traits<T>::text(v[i]);
        return s + "]";
    }
    static config_node emit(const std::vector<T>& values) {
        config_node seq = config_node::sequence();
        for (const T& v : values) seq.push_back(value_traits<T>::emit(v));
        return seq;
    }
};

/// Checks a constraint on a value, or on each element of a list.
template <class T, class E>
std::optional<std::string> violation(const T& value, const constraint<E>& c) {
    if constexpr (std::is_same_v<T, std::vector<E>>) {
        for (const E& v : value)
            if (!c.ok(v)) return value_traits<E>::text(v);
        return std::nullopt;
    } else {
        if (!c.ok(value)) return value_traits<T>::text(value);
        return std::nullopt;
    }
}

[[noreturn]] void throw_constraint_error(const config_node& node, const parse_context& ctx, const std::string& key,
                                         const std::string& value, const std::string& constraint_text);
template <class T, class E>
void check(const T& value, const constraint<E>& c, const config_node& node, const parse_context& ctx,
           const std::string& key) {
    if (auto bad = violation(value, c)) throw_constraint_error(node, ctx, key, *bad, c.text);
}

[[noreturn]] void throw_unknown_key(const config_node::entry& entry, const parse_context& ctx,
                                    const std::vector<std::string>& valid_keys);
[[noreturn]] void throw_missing_key(const config_node& map, const parse_context& ctx, const param_info& info);
[[noreturn]] void throw_not_a_map(const config_node& node, const parse_context& ctx);

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// The parameter table.

/// Parameter table for an options struct `Options`: each key with its doc, default (taken
/// from a default-constructed Options) and constraints.
template <class Options>
class param_spec {
public:
    explicit param_spec(std::string description) : description_(std::move(description)) {}

    /// Adds an optional key bound to `member`.
    template <class T, class... C>
    param_spec& add(T Options::*member, std::string key, std::string doc, constraint<C>... checks) {
        return add_key(member, std::move(key), std::move(doc), false, checks...);
    }
    /// Adds a key the user must set (the struct's default is not used).
    template <class T, class... C>
    param_spec& require(T Options::*member, std::string key, std::string doc, constraint<C>... checks) {
        return add_key(member, std::move(key), std::move(doc), true, checks...);
    }
    /// Adds a nested section with its own table (`train: {steps: ..., optimizer: ...}`).
    template <class S>
    param_spec& section(S Options::*member, std::string key, std::string doc, param_spec<S> sub);

    const std::string& description() const { return description_; }
    std::vector<param_info> info() const;

    /// Parses a map node (a `type` key is skipped: it selected the component). Null means
    /// "all defaults".
    Options parse(const config_node& node, const parse_context& ctx) const;
    /// Every key of `options` as a map node, in table order.
    config_node emit(const Options& options) const;

private:
    struct field {
        param_info info;
        std::function<void(Options&, const config_node&, const parse_context&)> parse;
        std::function<config_node(const Options&)> emit;
        /// For a key left out: resolves a defaulted nested component so that its options
        /// appear in the resolved configuration. Empty for plain values.
        std::function<void(Options&, const parse_context&)> fill_default;
    };

    template <class T, class... C>
    param_spec& add_key(T Options::*member, std::string key, std::string doc, bool required, constraint<C>... checks);

    std::string description_;
    std::vector<field> fields_;
};

// ---------------------------------------------------------------------------------------------
// Implementation of the templates above.

template <class T>
constraint<T> at_least(T low) {
    return {">= " + detail::value_traits<T>::text(low), [low](const T& v) { return v >= low; }};
}
template <class T>
constraint<T> at_most(T high) {
    return {"<= " + detail::value_traits<T>::text(high), [high](const T& v) { return v <= high; }};
}
template <class T>
constraint<T> greater_than(T low) {
    return {"> " + detail::value_traits<T>::text(low), [low](const T& v) { return v > low; }};
}
template <class T>
constraint<T> closed_range(T low, T high) {
    return {"[" + detail::value_traits<T>::text(low) + ", " + detail::value_traits<T>::text(high) + "]",
            [low, high](const T& v) { return v >= low && v <= high; }};
}

template <class Kind>
std::string component_ref<Kind>::type() const {
    const config_node* t = node_.is_map() ? node_.find("type") : nullptr;
    return t ? t->text() : std::string();
}

template <class Kind>
config_node component_ref<Kind>::default_node(std::string type) {
    config_node n = config_node::map();
    n.set("type", config_node::scalar(std::move(type)));
    return n;
}

template <class Options>
template <class T, class... C>
param_spec<Options>& param_spec<Options>::add_key(T Options::*member, std::string key, std::string doc, bool required,
                                                  constraint<C>... checks) {
    using traits = detail::value_traits<T>;
    field f;
    f.info.key = key;
    f.info.type = traits::name();
    f.info.doc = std::move(doc);
    f.info.required = required;
    if (!required) f.info.default_text = traits::text(Options{}.*member);
    std::string joined;
    ((joined += (joined.empty() ? "" : ", ") + checks.text), ...);
    f.info.constraint_text = joined;
    f.parse = [member, key, checks...](Options& o, const config_node& n, const parse_context& ctx) {
        if constexpr (detail::is_component_ref<T>::value) {
            // `sampler: {steps: 20}` (or an override sampler.steps=20) keeps the default type.
            const T fallback = Options{}.*member;
            if (n.is_map() && !n.find("type") && fallback.present()) {
                config_node typed = n;
                typed.set("type", *fallback.node().find("type"));
                o.*member = traits::parse(typed, ctx, key);
                return;
            }
        }
        T value = traits::parse(n, ctx, key);
        (detail::check(value, checks, n, ctx, key), ...);
        o.*member = std::move(value);
    };
    f.emit = [member](const Options& o) { return traits::emit(o.*member); };
    if constexpr (detail::is_component_ref<T>::value) {
        f.fill_default = [member, key](Options& o, const parse_context& ctx) {
            if ((o.*member).present())
                (o.*member).set_node(detail::parse_component(T::kind_type::kind_name, (o.*member).node(), ctx, key));
        };
    }
    fields_.push_back(std::move(f));
    return *this;
}

template <class Options>
template <class S>
param_spec<Options>& param_spec<Options>::section(S Options::*member, std::string key, std::string doc,
                                                  param_spec<S> sub) {
    field f;
    f.info.key = key;
    f.info.type = "section";
    f.info.doc = std::move(doc);
    f.info.fields = sub.info();
    auto shared = std::make_shared<param_spec<S>>(std::move(sub));
    f.parse = [member, key, shared](Options& o, const config_node& n, const parse_context& ctx) {
        o.*member = shared->parse(n, ctx.nested(key, "section '" + ctx.key_path(key) + "'"));
    };
    f.emit = [member, shared](const Options& o) { return shared->emit(o.*member); };
    fields_.push_back(std::move(f));
    return *this;
}

template <class Options>
std::vector<param_info> param_spec<Options>::info() const {
    std::vector<param_info> out;
    for (const field& f : fields_) out.push_back(f.info);
    return out;
}

template <class Options>
Options param_spec<Options>::parse(const config_node& node, const parse_context& ctx) const {
    Options options{};
    if (!node.is_null() && !node.is_map()) detail::throw_not_a_map(node, ctx);
    std::vector<std::string> valid;
    for (const field& f : fields_) valid.push_back(f.info.key);
    if (node.is_map()) {
        for (const config_node::entry& e : node.entries()) {
            if (e.key == "type") continue;
            bool known = false;
            for (const field& f : fields_) known = known || f.info.key == e.key;
            if (!known) detail::throw_unknown_key(e, ctx, valid);
        }
    }
    for (const field& f : fields_) {
        if (const config_node* value = node.find(f.info.key)) {
            f.parse(options, *value, ctx);
        } else if (f.info.required) {
            detail::throw_missing_key(node, ctx, f.info);
        } else if (f.info.type == "section") {
            f.parse(options, config_node{}, ctx);  // a section left out still checks its required keys
        } else if (f.fill_default) {
            f.fill_default(options, ctx);
        }
    }
    return options;
}

template <class Options>
config_node param_spec<Options>::emit(const Options& options) const {
    config_node out = config_node::map();
    for (const field& f : fields_) out.set(f.info.key, f.emit(options));
    return out;
}

}  // namespace difflab
