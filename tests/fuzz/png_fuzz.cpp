// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the PNG reader (libpng behind difflab's error handling), and the conversions a
// data set applies to what it accepts.
#include <difflab/io/image_io.h>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return difflab::fuzz::expect_clear_errors([&] {
        const difflab::image img =
            difflab::decode_png(std::string(reinterpret_cast<const char*>(data), size), "fuzzed");
        (void)difflab::from_image(difflab::convert_channels(img, 1));
    });
}
