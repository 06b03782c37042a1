// SPDX-License-Identifier: Apache-2.0
// Tests of the YAML tree: source positions, strictness, round trip.
#include <difflab/plugin/config_node.h>
#include <doctest/doctest.h>

using namespace difflab;

TEST_CASE("nodes remember file, line and column of values and keys") {
    const config_node root = parse_yaml("name: demo\nsampler:\n  type: ddim\n  steps: 20\n", "exp.yaml");
    REQUIRE(root.is_map());
    const config_node* steps = root.find("sampler")->find("steps");
    REQUIRE(steps);
    CHECK(steps->text() == "20");
    CHECK(steps->mark().text() == "exp.yaml:4:10");
    CHECK(root.find("sampler")->key_mark("steps").text() == "exp.yaml:4:3");
}

TEST_CASE("quoted scalars are told apart from plain ones") {
    const config_node root = parse_yaml("a: \"1\"\nb: 1\n", "q.yaml");
    CHECK(root.find("a")->quoted());
    CHECK_FALSE(root.find("b")->quoted());
}

TEST_CASE("duplicate keys, merge keys and syntax errors are located errors") {
    CHECK_THROWS_WITH_AS(parse_yaml("a: 1\na: 2\n", "d.yaml"), "d.yaml:2:1: error: duplicate key 'a'", config_error);
    CHECK_THROWS_WITH_AS(parse_yaml("base: &b {x: 1}\nc:\n  <<: *b\n", "m.yaml"),
                         "m.yaml:3:3: error: YAML merge keys ('<<') are not supported\n"
                         "    use 'defaults: [file.yaml]' to share settings between files",
                         config_error);
    CHECK_THROWS_WITH_AS(parse_yaml("a: [1, 2\n", "s.yaml"), doctest::Contains("s.yaml:2:1: error: invalid YAML"),
                         config_error);
}

TEST_CASE("a missing file is a clear error") {
    CHECK_THROWS_WITH_AS(load_yaml_file("/nonexistent/x.yaml"),
                         "/nonexistent/x.yaml: error: cannot open file; check the path", config_error);
}

TEST_CASE("to_yaml writes back what parse_yaml reads") {
    const config_node root =
        parse_yaml("name: demo\nsizes: [1, 2, 2]\nnested: {type: ddim, eta: 0.5}\nq: \"007\"\n", "r.yaml");
    const config_node again = parse_yaml(to_yaml(root), "again.yaml");
    CHECK(again.find("sizes")->items().size() == 3);
    CHECK(again.find("nested")->find("eta")->text() == "0.5");
    CHECK(again.find("q")->text() == "007");
    CHECK(again.find("q")->quoted());
    CHECK(to_yaml(again) == to_yaml(root));
}

TEST_CASE("set replaces in place and keeps order, erase removes") {
    config_node m = config_node::map();
    m.set("a", config_node::scalar("1"));
    m.set("b", config_node::scalar("2"));
    m.set("a", config_node::scalar("3"));
    CHECK(m.keys() == std::vector<std::string>{"a", "b"});
    CHECK(m.find("a")->text() == "3");
    CHECK(m.erase("a"));
    CHECK_FALSE(m.erase("a"));
    CHECK(m.keys() == std::vector<std::string>{"b"});
}

TEST_CASE("equivalent trees: map keys in any order, scalars by text, lists in order") {
    const config_node a = parse_yaml("{net: {channels: 32, mult: [1, 2]}, seed: 0}", "a");
    CHECK(equivalent(a, parse_yaml("seed: 0\nnet:\n  mult: [1, 2]\n  channels: 32\n", "b")));
    CHECK_FALSE(equivalent(a, parse_yaml("{net: {channels: 32, mult: [2, 1]}, seed: 0}", "c")));
    CHECK_FALSE(equivalent(a, parse_yaml("{net: {channels: 32, mult: [1, 2]}, seed: 0, extra: 1}", "d")));
    CHECK_FALSE(equivalent(a, parse_yaml("{net: {channels: 16, mult: [1, 2]}, seed: 0}", "e")));
    CHECK(to_flow_yaml(a) == "{net: {channels: 32, mult: [1, 2]}, seed: 0}");
}
