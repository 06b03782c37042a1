// SPDX-License-Identifier: Apache-2.0
// Tests of the environment task's matmul check.
#include "environment_task.h"

#include <doctest/doctest.h>

TEST_CASE("oneDNN's matmul of integer-valued matrices is exact") {
    CHECK(difflab::plugins::environment_task::matmul_error(1) == 0.0);
    CHECK(difflab::plugins::environment_task::matmul_error(67) == 0.0);  // not a multiple of any block size
}

TEST_CASE("environment options have documented bounds") {
    const auto spec = difflab::plugins::environment_task::params();
    CHECK_THROWS_AS(spec.parse(difflab::parse_yaml("{matmul_size: 0}", "t.yaml"), difflab::parse_context()),
                    difflab::config_error);
    CHECK(spec.parse(difflab::parse_yaml("{repeats: 2}", "t.yaml"), difflab::parse_context()).repeats == 2);
}
