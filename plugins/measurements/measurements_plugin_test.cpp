// SPDX-License-Identifier: Apache-2.0
// Tests that the plugin registers the measurement operators as the kind 'measurement'.
#include <difflab/diffusion/measurement.h>
#include <difflab/plugin/component.h>
#include <difflab/plugin/config_node.h>
#include <difflab/plugin/registry.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using namespace difflab;

TEST_CASE("the measurement kind is listed and the plugin registers its five operators") {
    CHECK(std::find(std::begin(component_kinds), std::end(component_kinds), std::string("measurement")) !=
          std::end(component_kinds));
    const registry& components = testing::build_plugins();
    std::vector<std::string> names;
    for (const component_info* info : components.of_kind("measurement")) {
        names.push_back(info->name);
        CHECK(info->plugin == "measurements");
        CHECK_FALSE(info->description.empty());
    }
    CHECK(names == std::vector<std::string>{"block_average", "blur", "identity", "mask", "resize"});
}

TEST_CASE("an operator written in YAML builds through the registry, binds and measures") {
    const registry& components = testing::build_plugins();
    const config_node resolved =
        components.resolve("measurement", parse_yaml("{type: block_average, factor: 2, noise_std: 0.1}", "e.yaml"),
                           parse_context(&components));
    CHECK(resolved.find("factor")->text() == "2");
    build_context builder(components, 0);
    const std::unique_ptr<component> made = builder.create("measurement", resolved);
    auto& h = dynamic_cast<measurement&>(*made);
    h.bind({3, 4, 4});
    CHECK(h.measured_shape() == shape_t{3, 2, 2});
    CHECK(h.noise_std() == doctest::Approx(0.1));
    CHECK(h.apply(tensor::ones({2, 3, 4, 4})).to_vector() == std::vector<float>(24, 1.0f));
    CHECK_THROWS_AS(components.resolve("measurement", parse_yaml("{type: block_average, factor: 0}", "e.yaml"),
                                       parse_context(&components)),
                    config_error);
}
