// SPDX-License-Identifier: Apache-2.0
// sampler/euler_ancestral passes difflab's sampler conformance checks.
#include <difflab/testing/sampler_conformance.h>
#include <difflab/testing/testing.h>
#include <doctest/doctest.h>

#include "euler_ancestral_sampler.h"

using difflab::testing::build;
using difflab::testing::check_sampler_conformance;
using euler_ancestral::euler_ancestral_sampler;

TEST_CASE("euler_ancestral conforms on every installed process, with and without noise") {
    CHECK(check_sampler_conformance(build<euler_ancestral_sampler>("{steps: 6}"), "euler_ancestral") == "");
    CHECK(check_sampler_conformance(build<euler_ancestral_sampler>("{steps: 6, eta: 0}"), "euler_ancestral") == "");
}
