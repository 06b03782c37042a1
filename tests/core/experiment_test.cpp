// SPDX-License-Identifier: Apache-2.0
// Tests of experiment composition (defaults), command-line overrides and validation.
#include <difflab/run/experiment.h>
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "test_components.h"

using namespace difflab;
namespace fs = std::filesystem;

namespace {

/// A fresh directory of YAML files for one test.
struct yaml_dir {
    fs::path root;
    explicit yaml_dir(const std::string& name) : root(fs::temp_directory_path() / ("difflab_exp_" + name)) {
        fs::remove_all(root);
        fs::create_directories(root / "groups");
    }
    ~yaml_dir() { fs::remove_all(root); }
    fs::path write(const std::string& file, const std::string& text) const {
        std::ofstream(root / file) << text;
        return root / file;
    }
};

std::string error_text(const std::function<void()>& f) {
    try {
        f();
    } catch (const config_error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("defaults merge first, in order, relative to the including file, the file itself wins") {
    yaml_dir d("order");
    d.write("groups/a.yaml", "seed: 1\ntask: {type: generate, count: 4}\n");
    d.write("groups/b.yaml", "seed: 2\ndescription: from b\n");
    const auto file = d.write("exp.yaml", "defaults: [groups/a.yaml, groups/b.yaml]\nname: e\ntask: {count: 8}\n");
    const config_node c = compose_experiment(file);
    CHECK(c.find("seed")->text() == "2");
    CHECK(c.find("description")->text() == "from b");
    CHECK(c.find("task")->find("type")->text() == "generate");
    CHECK(c.find("task")->find("count")->text() == "8");
    CHECK_FALSE(c.find("defaults"));
    // Values keep the file they came from.
    CHECK(c.find("seed")->mark().file == (d.root / "groups/b.yaml").string());
}

TEST_CASE("defaults can nest, and a cycle is an error naming the chain") {
    yaml_dir d("nest");
    d.write("groups/inner.yaml", "seed: 5\n");
    d.write("groups/outer.yaml", "defaults: [inner.yaml]\n");
    CHECK(compose_experiment(d.write("exp.yaml", "defaults: [groups/outer.yaml]\nname: e\n")).find("seed")->text() ==
          "5");
    d.write("groups/loop.yaml", "defaults: [../cyclic.yaml]\n");
    const auto cyclic = d.write("cyclic.yaml", "defaults: [groups/loop.yaml]\n");
    CHECK(error_text([&] { compose_experiment(cyclic); }).find("error: defaults form a cycle") != std::string::npos);
}

TEST_CASE("a missing defaults file is located") {
    yaml_dir d("missing");
    const auto file = d.write("exp.yaml", "name: e\ndefaults: [groups/nope.yaml]\n");
    CHECK(error_text([&] { compose_experiment(file); }) ==
          file.string() + ":2:12: error: defaults file 'groups/nope.yaml' not found (looked for " +
              (d.root / "groups/nope.yaml").string() + ")");
}

TEST_CASE("a later map with another type replaces the earlier one whole") {
    yaml_dir d("retype");
    d.write("groups/s.yaml", "task: {type: generate, sampler: {type: ddim_like, eta: 0.5}}\n");
    const auto file =
        d.write("exp.yaml", "defaults: [groups/s.yaml]\nname: e\ntask: {sampler: {type: euler_like, s_churn: 1}}\n");
    const config_node sampler = *compose_experiment(file).find("task")->find("sampler");
    CHECK(sampler.keys() == std::vector<std::string>{"type", "s_churn"});
}

TEST_CASE("overrides set any key, + adds a key that must be new") {
    yaml_dir d("over");
    const auto file = d.write("exp.yaml", "name: e\ntask: {type: generate, sampler: {type: ddim_like, steps: 50}}\n");
    config_node c = compose_experiment(file);
    apply_overrides(c, {"task.sampler.steps=20", "task.sampler.eta=0.3", "+description=demo", "seed=7"});
    CHECK(c.find("task")->find("sampler")->find("steps")->text() == "20");
    CHECK(c.find("task")->find("sampler")->find("eta")->text() == "0.3");
    CHECK(c.find("description")->text() == "demo");
    CHECK(c.find("seed")->mark().text() == "command line:4:6");

    CHECK(error_text([&] { apply_overrides(c, {"+seed=3"}); }) ==
          "command line:1:2: error: '+seed' adds a key, but 'seed' is already set\n"
          "    drop the '+' to override its value");
    CHECK(error_text([&] { apply_overrides(c, {"seed"}); }) ==
          "command line:1:1: error: override 'seed' is not key.path=value\n"
          "    set a key with key.path=value, add one with +key.path=value");
    CHECK(error_text([&] { apply_overrides(c, {"task..steps=1"}); }) ==
          "command line:1:6: error: empty key in override 'task..steps=1'");
    CHECK(error_text([&] { apply_overrides(c, {"name.x=1"}); }) ==
          "command line:1:6: error: cannot set 'name.x': 'name' is 'e', not a map");
}

TEST_CASE("overriding a type drops the old type's keys but keeps other overrides") {
    yaml_dir d("typeover");
    const auto file = d.write("exp.yaml", "name: e\ntask: {type: generate, sampler: {type: ddim_like, eta: 0.5}}\n");
    config_node c = compose_experiment(file);
    apply_overrides(c, {"task.sampler.steps=12", "task.sampler.type=euler_like"});
    const config_node& sampler = *c.find("task")->find("sampler");
    CHECK(sampler.keys() == std::vector<std::string>{"type", "steps"});
    CHECK(sampler.find("steps")->text() == "12");
}

TEST_CASE("override values are YAML, and an unknown key points at its column on the command line") {
    registry reg;
    test_components::register_all(reg);
    yaml_dir d("yamlvalue");
    const auto file = d.write("exp.yaml", "name: e\ntask: {type: generate}\n");
    config_node c = compose_experiment(file);
    apply_overrides(c, {"+plugins=[a, b]"});
    CHECK(c.find("plugins")->items().size() == 2);

    config_node bad = compose_experiment(file);
    apply_overrides(bad, {"task.sampler.stpes=20"});
    CHECK(error_text([&] { resolve_experiment(bad, reg); }) ==
          "command line:1:14: error: unknown key 'stpes' for sampler 'ddim_like'; did you mean 'steps'?\n"
          "    valid keys: eta, spacing, steps");
}

TEST_CASE("resolution fills every component and keeps unknown top-level keys out") {
    registry reg;
    test_components::register_all(reg);
    yaml_dir d("resolve");
    const auto file = d.write("exp.yaml", "name: e\ntask: generate\n");
    const config_node resolved = resolve_experiment(compose_experiment(file), reg);
    CHECK(resolved.find("task")->find("sampler")->find("spacing")->text() == "uniform");
    CHECK(resolved.find("seed")->text() == "0");

    const auto typo = d.write("typo.yaml", "name: e\ntask: generate\nsamplr: {}\n");
    CHECK(error_text([&] { resolve_experiment(compose_experiment(typo), reg); }) ==
          typo.string() +
              ":3:1: error: unknown key 'samplr' for experiment; did you mean 'sample'?\n"
              "    valid keys: data, description, evaluate, expect, name, network, noise, plugins, process, sample, "
              "seed, task, "
              "train, variants");
    const auto no_task = d.write("notask.yaml", "name: e\n");
    CHECK(error_text([&] { resolve_experiment(compose_experiment(no_task), reg); }) ==
          no_task.string() +
              ":1:1: error: missing required key 'task' for experiment\n"
              "    task (task): What the run does (generation, super_resolution, ...).");
}

TEST_CASE("a noise other than Gaussian resolves: training and sampling draw through it") {
    registry reg;
    test_components::register_all(reg);
    reg.add<test_components::uniform_noise>("uniform");
    yaml_dir d("noise");
    const auto file = d.write("exp.yaml", "name: e\ntask: generate\nnoise: {type: uniform}\n");
    const config_node resolved = resolve_experiment(compose_experiment(file), reg);
    CHECK(resolved.find("noise")->find("type")->text() == "uniform");
}

TEST_CASE("plugin paths are made absolute relative to the file that names them") {
    yaml_dir d("plugins");
    const auto file = d.write("exp.yaml", "name: e\ntask: generate\nplugins: [ddpm, ./local/difflab_x.so]\n");
    const auto requested = requested_plugins(compose_experiment(file));
    REQUIRE(requested.size() == 2);
    CHECK(requested[0].first == "ddpm");
    CHECK(requested[1].first == (d.root / "local/difflab_x.so").string());
    CHECK(requested[1].second.text() == file.string() + ":3:17");
}
