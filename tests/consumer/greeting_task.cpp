// SPDX-License-Identifier: Apache-2.0
// The 'greeting' task of the consumer_demo plugin.
#include "greeting_task.h"

#include <difflab/io/atomic_file.h>

namespace consumer_demo {

difflab::param_spec<greeting_task::options> greeting_task::params() {
    difflab::param_spec<options> spec{"Writes a greeting into the run directory."};
    spec.add(&options::text, "text", "What to write.", difflab::non_empty());
    spec.add(&options::times, "times", "How many lines.", difflab::closed_range<std::int64_t>(1, 100));
    return spec;
}

greeting_task::greeting_task(const options& opts, difflab::build_context&) : opts_(opts) {}

void greeting_task::run(difflab::run_context& ctx) {
    std::string lines;
    for (std::int64_t i = 0; i < opts_.times; ++i) lines += opts_.text + "\n";
    difflab::write_file_atomically(ctx.run_dir() / "greeting.txt", lines);
}

}  // namespace consumer_demo
