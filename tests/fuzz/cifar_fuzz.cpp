// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the CIFAR-10 binary batch reader (plugin datasets).
#include "../../plugins/datasets/cifar10_dataset.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path file = difflab::fuzz::scratch_directory() / "data_batch_1.bin";
    difflab::fuzz::write_file(file, std::string_view(reinterpret_cast<const char*>(data), size));
    return difflab::fuzz::expect_clear_errors([&] {
        difflab::plugins::image_store images{3, 32, 32, {}, {}};
        difflab::plugins::read_cifar10_batch(file.string(), images);
    });
}
