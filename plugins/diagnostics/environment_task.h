// SPDX-License-Identifier: Apache-2.0
// The 'environment' task: what this installation is and whether oneDNN computes correctly.
#pragma once

#include <difflab/run/task.h>

#include <cstdint>
#include <string>

namespace difflab::plugins {

/// Reports the build (version, fingerprint, plugin API), the machine as oneDNN sees it (CPU ISA,
/// threads) and every registered component, and multiplies two seeded matrices with a oneDNN
/// matmul, checking the product against a plain triple loop and timing it — in the spirit of
/// PyTorch's collect_env. Writes report.md in the run directory; fails if the product is wrong.
class environment_task final : public task {
public:
    struct options {
        std::int64_t matmul_size = 256;
        std::int64_t repeats = 5;
    };
    static param_spec<options> params();

    environment_task(const options& opts, build_context& ctx);
    void run(run_context& ctx) override;

    /// Largest |oneDNN - reference| / (1 + |reference|) of an n x n matmul of seeded values.
    static double matmul_error(std::int64_t n);

private:
    options opts_;
};

}  // namespace difflab::plugins
