// SPDX-License-Identifier: Apache-2.0
// The `variants:` grid: combinations, labels, merging, model sharing, errors.
#include <difflab/run/experiment.h>
#include <difflab/run/variants.h>
#include <doctest/doctest.h>

#include "test_components.h"

using namespace difflab;

namespace {

registry& components() {
    static registry reg;
    static const bool once = [] {
        test_components::register_all(reg);
        return true;
    }();
    (void)once;
    return reg;
}

std::vector<experiment_variant> expand(const std::string& yaml) {
    return expand_variants(resolve_experiment(parse_yaml(yaml, "exp.yaml"), components()), components());
}

std::string error_text(const std::string& yaml) {
    try {
        expand(yaml);
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no error)";
}

const config_node& sampler_of(const experiment_variant& v) {
    return *v.experiment.find("task")->find("sampler");
}

}  // namespace

TEST_CASE("a grid runs every combination, the first axis slowest, labelled by its values") {
    const auto variants = expand(
        "name: e\ntask: {type: generate, sampler: {type: ddim_like}}\n"
        "variants: {task.sampler.steps: [10, 20], seed: {low: 1, high: 2}}\n");
    REQUIRE(variants.size() == 4);
    CHECK(variants[0].label == "steps=10, low");
    CHECK(variants[1].label == "steps=10, high");
    CHECK(variants[2].label == "steps=20, low");
    CHECK(variants[3].label == "steps=20, high");
    CHECK(variants[3].slug == "steps=20_high");
    CHECK(sampler_of(variants[2]).find("steps")->text() == "20");
    CHECK(variants[1].experiment.find("seed")->text() == "2");
    // A variant is a single run: no grid and no claims of its own.
    CHECK(variants[0].experiment.find("variants") == nullptr);
    CHECK(variants[0].experiment.find("expect") == nullptr);
    REQUIRE(variants[0].settings.size() == 2);
    CHECK(variants[0].settings[0].first == "task.sampler.steps");
}

TEST_CASE("a variant merges into the map it sets, unless it changes the component type") {
    const auto variants = expand(
        "name: e\ntask: {type: generate, sampler: {type: ddim_like, eta: 0.5}}\n"
        "variants:\n  task.sampler:\n    short: {steps: 3}\n    euler: {type: euler_like, s_churn: 1}\n"
        "    3: {steps: 7}\n");
    REQUIRE(variants.size() == 3);
    CHECK(sampler_of(variants[0]).find("eta")->text() == "0.5");
    CHECK(sampler_of(variants[0]).find("steps")->text() == "3");
    CHECK(sampler_of(variants[1]).find("type")->text() == "euler_like");
    CHECK(sampler_of(variants[1]).find("eta") == nullptr);
    CHECK(sampler_of(variants[1]).find("steps")->text() == "10");  // euler_like's default
    CHECK(variants[2].label == "3");  // a map's keys are the labels, whatever they look like
}

TEST_CASE("list values that are maps are labelled with their one-line YAML") {
    const auto variants = expand(
        "name: e\ntask: {type: generate}\n"
        "variants: {task.sampler: [{type: ddim_like, steps: 4}, {type: euler_like}]}\n");
    REQUIRE(variants.size() == 2);
    CHECK(variants[0].label == "{type: ddim_like, steps: 4}");
    CHECK(variants[0].slug == "type_ddim_like_steps_4");
}

TEST_CASE("the axis '.' merges labelled arms into the whole experiment, several sections at once") {
    const auto variants = expand(
        "name: e\nseed: 1\ntask: {type: generate, sampler: {type: ddim_like, eta: 0.5}}\n"
        "variants:\n  sample.count: [4, 8]\n  .:\n    plain: {seed: 2}\n"
        "    euler: {seed: 3, task: {sampler: {type: euler_like}}}\n");
    REQUIRE(variants.size() == 4);
    CHECK(variants[0].label == "count=4, plain");
    CHECK(variants[1].label == "count=4, euler");
    CHECK(variants[0].experiment.find("seed")->text() == "2");
    CHECK(sampler_of(variants[0]).find("eta")->text() == "0.5");  // kept: the arm does not touch it
    CHECK(variants[1].experiment.find("seed")->text() == "3");
    CHECK(sampler_of(variants[1]).find("type")->text() == "euler_like");
    CHECK(sampler_of(variants[1]).find("eta") == nullptr);  // a new type drops the old one's keys
    CHECK(variants[3].experiment.find("sample")->find("count")->text() == "8");
    CHECK(error_text("name: e\ntask: {type: generate}\nvariants: {.: [{seed: 2}]}\n")
              .find("'variants..' (the whole experiment) expects a map of labelled arms") != std::string::npos);
    CHECK(error_text("name: e\ntask: {type: generate}\nvariants: {.: {a: 3}}\n")
              .find("arm 'a' of 'variants..' must be a map of experiment sections") != std::string::npos);
}

TEST_CASE("variants that differ only in sampling share one model") {
    const auto variants = expand("name: e\ntask: {type: generate}\nvariants: {sample.count: [4, 8], seed: [1, 2]}\n");
    REQUIRE(variants.size() == 4);
    CHECK(model_key(variants[0].experiment) == model_key(variants[2].experiment));  // count 4 vs 8, seed 1
    CHECK(model_key(variants[0].experiment) != model_key(variants[1].experiment));  // seed 1 vs 2
}

TEST_CASE("grid mistakes point into the file") {
    CHECK(error_text("name: e\ntask: {type: generate}\nvariants: {seed: 5}\n") ==
          "exp.yaml:3:18: error: 'variants.seed' expects a list of values or a map of labelled values, got '5'\n"
          "    for example: seed: [A, B] or seed: {label_a: A, label_b: B}");
    CHECK(error_text("name: e\ntask: {type: generate, sampler: {type: ddim_like}}\n"
                     "variants: {task.sampler.steps: [10, 0]}\n") ==
          "exp.yaml:3:37: error: 'task.sampler.steps' is 0, which is out of range; it must be >= 1");
    CHECK(error_text("name: e\ntask: {type: generate}\nvariants: {seed: [1, 1]}\n") ==
          "exp.yaml:3:11: error: two variants are both labelled 'seed=1'\n"
          "    label the values with the map form: KEY.PATH: {label_a: A, label_b: B}");
    CHECK(error_text("name: e\ntask: {type: generate}\nvariants: {name.x: [1]}\n") ==
          "exp.yaml:3:12: error: 'variants' cannot set 'name.x': 'name' is 'e', not a map");
}

TEST_CASE("variants.exclude leaves out the combinations that match every key of a rule") {
    const auto variants = expand(
        "name: e\ntask: {type: generate, sampler: {type: ddim_like}}\n"
        "variants:\n  task.sampler: {ddim: {type: ddim_like}, adaptive: {type: euler_like}}\n"
        "  seed: [0, 5, 10]\n"
        "  exclude:\n"
        "    - {task.sampler: adaptive, seed: {not: seed=0}}\n"
        "    - {task.sampler: {not: [adaptive]}, seed: seed=0}\n");
    std::vector<std::string> labels;
    for (const experiment_variant& v : variants) labels.push_back(v.label);
    CHECK(labels == std::vector<std::string>{"ddim, seed=5", "ddim, seed=10", "adaptive, seed=0"});
    REQUIRE(variants[2].labels.size() == 2);
    CHECK(variants[2].labels[0] == "adaptive");
    CHECK(variants[2].labels[1] == "seed=0");
}

TEST_CASE("variants.exclude names unknown axes and labels, and a grid it empties") {
    const std::string grid =
        "name: e\ntask: {type: generate, sampler: {type: ddim_like}}\n"
        "variants:\n  task.sampler.steps: [5, 10]\n  exclude:\n    - ";
    CHECK(error_text(grid + "{task.sampler.step: steps=5}\n")
              .find("'task.sampler.step' is not an axis of "
                    "'variants'; did you mean") != std::string::npos);
    CHECK(error_text(grid + "{task.sampler.steps: steps=7}\n").find("'steps=7' is not a label of axis") !=
          std::string::npos);
    CHECK(error_text(grid + "{task.sampler.steps: {not: steps=7}}\n").find("'steps=7' is not a label") !=
          std::string::npos);
    CHECK(error_text(grid + "{task.sampler.steps: [steps=5, steps=10]}\n").find("leaves no combination") !=
          std::string::npos);
}
