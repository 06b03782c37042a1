// SPDX-License-Identifier: Apache-2.0
// `difflab check` accepts every experiment shipped in experiments/ (groups/ are fragments).
#include <doctest/doctest.h>

#include <vector>

#include "cli_runner.h"

using namespace cli_test;

TEST_CASE("difflab check passes on every file in experiments/") {
    const fs::path root = fs::path(DIFFLAB_SOURCE_DIR) / "experiments";
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
        const fs::path relative = fs::relative(entry.path(), root);
        if (entry.path().extension() == ".yaml" && *relative.begin() != "groups") files.push_back(entry.path());
    }
    REQUIRE_FALSE(files.empty());
    for (const fs::path& file : files) {
        const result r = run("check " + file.string());
        const std::string context = file.string() + "\n" + r.err;
        CHECK_MESSAGE(r.exit_code == 0, context);
    }
}
