// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the IDX reader of Fashion-MNIST (plugin datasets), gzipped or plain. The input
// is the image file, a line "%%", then the label file.
#include "../../plugins/datasets/fashion_mnist_dataset.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::string> parts = difflab::fuzz::input_parts(data, size, 2);
    const std::filesystem::path dir = difflab::fuzz::scratch_directory();
    difflab::fuzz::write_file(dir / "images", parts[0]);
    difflab::fuzz::write_file(dir / "labels", parts[1]);
    return difflab::fuzz::expect_clear_errors(
        [&] { (void)difflab::plugins::read_idx_pair((dir / "images").string(), (dir / "labels").string()); });
}
