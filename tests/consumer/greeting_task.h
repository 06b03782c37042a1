// SPDX-License-Identifier: Apache-2.0
// The 'greeting' task of the consumer_demo plugin (the docs/writing-a-plugin.md walkthrough).
#pragma once

#include <difflab/plugin/params.h>
#include <difflab/plugin/registry.h>
#include <difflab/run/task.h>

#include <cstdint>
#include <string>

namespace consumer_demo {

/// Writes `text` `times` times into greeting.txt in the run directory.
class greeting_task final : public difflab::task {
public:
    struct options {
        std::string text = "hello";
        std::int64_t times = 1;
    };
    static difflab::param_spec<options> params();

    greeting_task(const options& opts, difflab::build_context& ctx);
    void run(difflab::run_context& ctx) override;

private:
    options opts_;
};

}  // namespace consumer_demo
