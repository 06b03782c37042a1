// SPDX-License-Identifier: Apache-2.0
// Fuzz target: experiment composition with overrides, as `difflab run FILE KEY=VALUE...` takes an
// experiment before it loads plugins: the input's parts (separated by lines "%%") are the
// experiment file, a base.yaml it may name in `defaults:`, and override lines; then the plugins it
// asks for and its typed top-level options. (Checking components against the registry needs the
// plugins; their parameter parsers are the typed parsers fuzzed here.)
#include <difflab/run/experiment.h>

#include <sstream>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::string> parts = difflab::fuzz::input_parts(data, size, 3);
    const std::filesystem::path dir = difflab::fuzz::scratch_directory();
    difflab::fuzz::write_file(dir / "experiment.yaml", parts[0]);
    difflab::fuzz::write_file(dir / "base.yaml", parts[1]);
    std::vector<std::string> overrides;
    std::istringstream lines(parts[2]);
    for (std::string line; std::getline(lines, line);) overrides.push_back(line);
    return difflab::fuzz::expect_clear_errors([&] {
        difflab::config_node experiment = difflab::compose_experiment(dir / "experiment.yaml");
        difflab::apply_overrides(experiment, overrides);
        (void)difflab::requested_plugins(experiment);
        (void)difflab::read_experiment(experiment);
    });
}
