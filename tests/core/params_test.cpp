// SPDX-License-Identifier: Apache-2.0
// Tests of parameter tables: every type, defaults, constraints, required keys, sections,
// nested components, and the exact error texts.
#include <difflab/plugin/params.h>
#include <doctest/doctest.h>

#include "test_components.h"

using namespace difflab;

namespace {

struct inner {
    std::int64_t warmup = 0;
    double lr = 1e-3;
};

struct everything {
    bool flag = false;
    std::int64_t count = 3;
    int small = 7;
    double scale = 0.5;
    std::string mode = "fast";
    std::vector<std::int64_t> sizes{1, 2, 2};
    std::vector<double> weights;
    std::vector<std::string> tags;
    inner schedule;
    std::string path;
};

param_spec<everything> everything_spec() {
    param_spec<inner> sub{"Schedule."};
    sub.add(&inner::warmup, "warmup", "Warm-up steps.", at_least<std::int64_t>(0));
    sub.add(&inner::lr, "lr", "Learning rate.", greater_than(0.0));
    param_spec<everything> spec{"All types."};
    spec.add(&everything::flag, "flag", "A bool.");
    spec.add(&everything::count, "count", "An int.", closed_range<std::int64_t>(1, 10));
    spec.add(&everything::small, "small", "A narrow int.");
    spec.add(&everything::scale, "scale", "A float.", at_least(0.0), at_most(2.0));
    spec.add(&everything::mode, "mode", "An enum.", one_of({"fast", "exact"}));
    spec.add(&everything::sizes, "sizes", "Ints.", at_least<std::int64_t>(1));
    spec.add(&everything::weights, "weights", "Floats.");
    spec.add(&everything::tags, "tags", "Strings.");
    spec.section(&everything::schedule, "schedule", "A section.", sub);
    spec.require(&everything::path, "path", "Required.");
    return spec;
}

everything parse(const std::string& yaml) {
    return everything_spec().parse(parse_yaml(yaml, "p.yaml"), parse_context());
}

std::string error_of(const std::string& yaml) {
    try {
        parse(yaml);
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("every type parses, and keys left out keep their defaults") {
    const everything e = parse(
        "flag: true\ncount: 4\nsmall: -2\nscale: 1.5e-1\nmode: exact\nsizes: [1, 4]\nweights: [0.5, 2]\n"
        "tags: [a, b]\nschedule: {lr: 0.01}\npath: /data\n");
    CHECK(e.flag);
    CHECK(e.count == 4);
    CHECK(e.small == -2);
    CHECK(e.scale == doctest::Approx(0.15));
    CHECK(e.mode == "exact");
    CHECK(e.sizes == std::vector<std::int64_t>{1, 4});
    CHECK(e.weights == std::vector<double>{0.5, 2.0});
    CHECK(e.tags == std::vector<std::string>{"a", "b"});
    CHECK(e.schedule.lr == doctest::Approx(0.01));
    CHECK(e.schedule.warmup == 0);
    CHECK(e.path == "/data");

    const everything d = parse("path: x\n");
    CHECK_FALSE(d.flag);
    CHECK(d.count == 3);
    CHECK(d.sizes == std::vector<std::int64_t>{1, 2, 2});
    CHECK(d.schedule.lr == doctest::Approx(1e-3));
}

TEST_CASE("the table documents type, default and constraint of every key") {
    const auto info = everything_spec().info();
    REQUIRE(info.size() == 10);
    CHECK(info[1].key == "count");
    CHECK(info[1].type == "int");
    CHECK(info[1].default_text == "3");
    CHECK(info[1].constraint_text == "[1, 10]");
    CHECK(info[3].type == "float");
    CHECK(info[3].default_text == "0.5");
    CHECK(info[3].constraint_text == ">= 0.0, <= 2.0");
    CHECK(info[4].constraint_text == "fast|exact");
    CHECK(info[5].type == "list[int]");
    CHECK(info[5].default_text == "[1, 2, 2]");
    CHECK(info[8].type == "section");
    REQUIRE(info[8].fields.size() == 2);
    CHECK(info[8].fields[1].constraint_text == "> 0.0");
    CHECK(info[9].required);
    CHECK(info[9].default_text.empty());
}

TEST_CASE("wrong types name the key path, line and column") {
    CHECK(error_of("path: x\ncount: ten\n") == "p.yaml:2:8: error: 'count' expects an integer, got 'ten'");
    CHECK(error_of("path: x\ncount: 2.5\n") == "p.yaml:2:8: error: 'count' expects an integer, got '2.5'");
    CHECK(error_of("path: x\nflag: 1\n") == "p.yaml:2:7: error: 'flag' expects true or false, got '1'");
    CHECK(error_of("path: x\nscale: \"0.5\"\n") == "p.yaml:2:8: error: 'scale' expects a number, got '0.5'");
    CHECK(error_of("path: x\nsizes: 3\n") == "p.yaml:2:8: error: 'sizes' expects a list of int, got '3'");
    CHECK(error_of("path: x\nsizes: [1, b]\n") == "p.yaml:2:12: error: 'sizes[1]' expects an integer, got 'b'");
    CHECK(error_of("path: x\nsmall: 9999999999\n") ==
          "p.yaml:2:8: error: 'small' expects an integer that fits int, got '9999999999'");
    CHECK(error_of("path: x\nschedule: {lr: fast}\n") ==
          "p.yaml:2:16: error: 'schedule.lr' expects a number, got 'fast'");
    CHECK(error_of("path: [a]\n") == "p.yaml:1:7: error: 'path' expects a string, got a list");
    CHECK(error_of("- a\n") == "p.yaml:1:1: error: experiment expects a map of keys, got a list");
}

TEST_CASE("values out of range say what the range is") {
    CHECK(error_of("path: x\ncount: 11\n") ==
          "p.yaml:2:8: error: 'count' is 11, which is out of range; it must be [1, 10]");
    CHECK(error_of("path: x\nscale: 3\n") ==
          "p.yaml:2:8: error: 'scale' is 3.0, which is out of range; it must be <= 2.0");
    CHECK(error_of("path: x\nmode: slow\n") ==
          "p.yaml:2:7: error: 'mode' is slow, which is out of range; it must be one of fast|exact");
    CHECK(error_of("path: x\nsizes: [2, 0]\n") ==
          "p.yaml:2:8: error: 'sizes' is 0, which is out of range; it must be >= 1");
    CHECK(error_of("path: x\nschedule: {warmup: -1}\n") ==
          "p.yaml:2:20: error: 'schedule.warmup' is -1, which is out of range; it must be >= 0");
}

TEST_CASE("unknown keys suggest the closest valid key and list them all") {
    CHECK(error_of("path: x\ncuont: 2\n") ==
          "p.yaml:2:1: error: unknown key 'cuont' for experiment; did you mean 'count'?\n"
          "    valid keys: count, flag, mode, path, scale, schedule, sizes, small, tags, weights");
    CHECK(error_of("path: x\nschedule: {lf: 1}\n") ==
          "p.yaml:2:12: error: unknown key 'lf' for section 'schedule'; did you mean 'lr'?\n"
          "    valid keys: lr, warmup");
    CHECK(error_of("path: x\ntemperature: 2\n") ==
          "p.yaml:2:1: error: unknown key 'temperature' for experiment\n"
          "    valid keys: count, flag, mode, path, scale, schedule, sizes, small, tags, weights");
}

TEST_CASE("a missing required key names the key and its doc") {
    CHECK(error_of("count: 2\n") ==
          "p.yaml:1:1: error: missing required key 'path' for experiment\n"
          "    path (string): Required.");
}

TEST_CASE("emit gives every key, defaults included, and parses back to the same options") {
    const auto spec = everything_spec();
    const everything e = parse("path: x\nweights: [1.5]\nschedule: {warmup: 5}\n");
    const config_node emitted = spec.emit(e);
    CHECK(emitted.keys().size() == 10);
    CHECK(to_yaml(emitted) ==
          "flag: false\ncount: 3\nsmall: 7\nscale: 0.5\nmode: \"fast\"\nsizes: [1, 2, 2]\nweights: [1.5]\n"
          "tags: []\nschedule:\n  warmup: 5\n  lr: 0.001\npath: \"x\"\n");
    const everything again = spec.parse(parse_yaml(to_yaml(emitted), "again.yaml"), parse_context());
    CHECK(again.weights == e.weights);
    CHECK(again.schedule.warmup == 5);
}

TEST_CASE("nested components resolve through the registry with their own defaults") {
    registry reg;
    test_components::register_all(reg);
    const auto spec = test_components::generate::params();
    parse_context ctx(&reg);

    auto opts = spec.parse(parse_yaml("sampler: {type: ddim_like, steps: 20}\n", "n.yaml"), ctx);
    CHECK(to_yaml(opts.sampler.node()) == "type: ddim_like\nsteps: 20\neta: 0.0\nspacing: \"uniform\"\n");

    // The short form names the type alone; a left-out component gets its default type resolved.
    opts = spec.parse(parse_yaml("sampler: euler_like\n", "n.yaml"), ctx);
    CHECK(to_yaml(opts.sampler.node()) == "type: euler_like\nsteps: 10\ns_churn: 0.0\n");
    opts = spec.parse(parse_yaml("count: 2\n", "n.yaml"), ctx);
    CHECK(opts.sampler.type() == "ddim_like");
    CHECK(opts.sampler.node().find("spacing"));
}

TEST_CASE("nested component errors carry the component's name and the key path") {
    registry reg;
    test_components::register_all(reg);
    const auto spec = test_components::generate::params();
    parse_context ctx(&reg);
    auto err = [&](const std::string& yaml) {
        try {
            spec.parse(parse_yaml(yaml, "n.yaml"), ctx);
        } catch (const config_error& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(err("sampler: {type: ddim_like, stpes: 20}\n") ==
          "n.yaml:1:28: error: unknown key 'stpes' for sampler 'ddim_like'; did you mean 'steps'?\n"
          "    valid keys: eta, spacing, steps");
    CHECK(err("sampler: {type: ddim_like, eta: 2}\n") ==
          "n.yaml:1:33: error: 'sampler.eta' is 2.0, which is out of range; it must be [0.0, 1.0]");
    CHECK(err("sampler: {type: dim_like}\n") ==
          "n.yaml:1:17: error: unknown sampler type 'dim_like'; did you mean 'ddim_like'?\n"
          "    known sampler types: broken (plugin core_test), ddim_like (plugin core_test), euler_like (plugin "
          "core_test)");
    // Without `type`, a component with a default type keeps it ...
    CHECK(err("sampler: {steps: 3}\n") == "(no error)");
    CHECK(spec.parse(parse_yaml("sampler: {steps: 3}\n", "n.yaml"), ctx).sampler.type() == "ddim_like");

    // ... and one without a default needs it.
    struct no_default {
        component_ref<difflab::sampler> ref;
    };
    param_spec<no_default> bare{"No default sampler."};
    bare.add(&no_default::ref, "sampler", "The sampler.");
    CHECK_THROWS_WITH_AS(bare.parse(parse_yaml("sampler: {steps: 3}\n", "n.yaml"), ctx),
                         "n.yaml:1:10: error: 'sampler' expects a sampler with a 'type' key, got a map\n"
                         "    for example: sampler: {type: NAME, ...}; `difflab plugins` lists the sampler types",
                         config_error);
}
