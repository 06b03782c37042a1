// SPDX-License-Identifier: Apache-2.0
// Tests of the progress bar's duration format.
#include <difflab/progress.h>

#include <doctest/doctest.h>

TEST_CASE("durations read as seconds, minutes or hours") {
    CHECK(difflab::progress_bar::format_duration(12.2) == "12s");
    CHECK(difflab::progress_bar::format_duration(99) == "1m39s");
    CHECK(difflab::progress_bar::format_duration(7500) == "2h05m");
}
