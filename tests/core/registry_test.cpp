// SPDX-License-Identifier: Apache-2.0
// Tests of the registries: lookup, duplicates, construction and errors from component code.
#include <difflab/plugin/registry.h>
#include <doctest/doctest.h>

#include "test_components.h"

using namespace difflab;

TEST_CASE("components are found by kind and name, listed in kind order") {
    registry reg;
    test_components::register_all(reg);
    REQUIRE(reg.find("sampler", "ddim_like"));
    CHECK(reg.find("sampler", "ddim_like")->plugin == "core_test");
    CHECK(reg.find("sampler", "ddim_like")->full_name() == "sampler/ddim_like");
    CHECK_FALSE(reg.find("task", "ddim_like"));
    CHECK(reg.of_kind("sampler").size() == 3);
    const auto all = reg.all();
    REQUIRE(all.size() == 4);
    CHECK(all.front()->kind == "sampler");
    CHECK(all.back()->kind == "task");
}

TEST_CASE("a second component of the same kind and name names both plugins") {
    registry reg;
    reg.set_current_plugin("first", "1.0", "/p/difflab_first.so");
    reg.add<test_components::ddim_like>("ddim");
    reg.set_current_plugin("second", "1.0", "/q/difflab_second.so");
    CHECK_THROWS_WITH_AS(reg.add<test_components::euler_like>("ddim"),
                         "/q/difflab_second.so: error: duplicate sampler 'ddim': registered by plugin 'first' "
                         "(/p/difflab_first.so) and plugin 'second' (/q/difflab_second.so)\n"
                         "    rename the component in one of the plugins, or remove one plugin from the plugin path",
                         config_error);
}

TEST_CASE("unknown names list the valid choices") {
    registry reg;
    test_components::register_all(reg);
    CHECK_THROWS_WITH_AS(reg.at("task", "generat", {"e.yaml", 3, 7}),
                         "e.yaml:3:7: error: unknown task type 'generat'; did you mean 'generate'?\n"
                         "    known task types: generate (plugin core_test)",
                         config_error);
    CHECK_THROWS_WITH_AS(reg.at("metric", "fid"),
                         "error: unknown metric type 'fid'\n"
                         "    known metric types: none (no loaded plugin registers one)",
                         config_error);
}

TEST_CASE("build_context builds nested components from resolved nodes") {
    registry reg;
    test_components::register_all(reg);
    const config_node written = parse_yaml("type: generate\nsampler: {type: ddim_like, steps: 7}\n", "t.yaml");
    const config_node resolved = reg.resolve("task", written, parse_context(&reg));
    build_context ctx(reg, 0);
    auto made = ctx.create("task", resolved);
    auto& task = dynamic_cast<test_components::generate&>(*made);
    CHECK(task.opts.count == 64);
    REQUIRE(task.sampler);
    CHECK(dynamic_cast<test_components::ddim_like&>(*task.sampler).opts.steps == 7);
}

TEST_CASE("an exception from a component's constructor becomes an error naming the component and plugin") {
    registry reg;
    test_components::register_all(reg);
    const config_node resolved = reg.resolve("sampler", parse_yaml("type: broken\n", "b.yaml"), parse_context(&reg));
    build_context ctx(reg, 0);
    CHECK_THROWS_WITH_AS(ctx.create("sampler", resolved),
                         "b.yaml:1:1: error: sampler/broken failed to build (plugin 'core_test'): out of memory",
                         error);
}

TEST_CASE("resolved nodes keep the source marks of what was written") {
    registry reg;
    test_components::register_all(reg);
    const config_node resolved =
        reg.resolve("sampler", parse_yaml("type: ddim_like\neta: 0.5\n", "m.yaml"), parse_context(&reg));
    CHECK(resolved.find("eta")->mark().text() == "m.yaml:2:6");
    CHECK_FALSE(resolved.find("steps")->mark().known());  // a default: written nowhere
}
