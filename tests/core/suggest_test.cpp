// SPDX-License-Identifier: Apache-2.0
// Tests of edit distance and "did you mean".
#include <difflab/base/suggest.h>
#include <doctest/doctest.h>

using namespace difflab;

TEST_CASE("edit distance counts insertions, deletions, substitutions and transpositions as one") {
    CHECK(edit_distance("steps", "steps") == 0);
    CHECK(edit_distance("stpes", "steps") == 1);  // transposition
    CHECK(edit_distance("step", "steps") == 1);
    CHECK(edit_distance("stepz", "steps") == 1);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("closest_match suggests only plausible typos") {
    const std::vector<std::string> keys{"eta", "spacing", "steps"};
    CHECK(closest_match("stpes", keys) == "steps");
    CHECK(closest_match("spaceing", keys) == "spacing");
    CHECK_FALSE(closest_match("temperature", keys).has_value());
    CHECK(did_you_mean("ets", keys) == "; did you mean 'eta'?");
    CHECK(did_you_mean("xyz", keys) == "");
}
