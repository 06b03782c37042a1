// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the checkpoint-set loader, as --resume uses it: `latest`, the weights file and
// the state file (the input's three parts, separated by lines "%%") restored into a small model
// with Adam and an EMA, then every step found listed.
#include <difflab/io/checkpoint.h>
#include <difflab/tensor/nn.h>
#include <difflab/tensor/optim.h>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::string> parts = difflab::fuzz::input_parts(data, size, 3);
    const std::filesystem::path dir = difflab::fuzz::scratch_directory();
    difflab::fuzz::write_file(dir / "latest", parts[0]);
    difflab::fuzz::write_file(dir / "step_1.safetensors", parts[1]);
    difflab::fuzz::write_file(dir / "step_1.state.safetensors", parts[2]);
    return difflab::fuzz::expect_clear_errors([&] {
        (void)difflab::checkpoint_steps(dir);
        const std::optional<std::uint64_t> step = difflab::latest_checkpoint_step(dir);
        if (!step) return;
        difflab::nn::linear model(3, 2, true, 0);
        difflab::optim::adam optimizer(model.parameters(), {});
        difflab::optim::ema average(model, 0.99f);
        (void)difflab::restore_checkpoint(dir, *step, model, optimizer, &average);
    });
}
