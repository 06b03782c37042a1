// SPDX-License-Identifier: Apache-2.0
// The run context handed to a task.
#include <difflab/run/task.h>

namespace difflab {

run_context::run_context(const registry& components, config_node experiment, std::filesystem::path run_dir,
                         std::uint64_t seed)
    : experiment_(std::move(experiment)), run_dir_(std::move(run_dir)), builder_(components, seed) {
    if (const config_node* name = experiment_.find("name"); name && name->is_scalar())
        name_ = name->text();  // a string: the scalar is its value
}

}  // namespace difflab
