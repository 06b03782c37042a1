// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the safetensors reader, and every tensor it accepts converted to a tensor.
#include <difflab/io/safetensors.h>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return difflab::fuzz::expect_clear_errors([&] {
        const difflab::safetensors_file file =
            difflab::parse_safetensors(std::string_view(reinterpret_cast<const char*>(data), size), "fuzzed");
        for (const difflab::safetensors_entry& entry : file.tensors)
            if (entry.dtype == "F32" || entry.dtype == "BF16") (void)difflab::to_tensor(entry);
    });
}
