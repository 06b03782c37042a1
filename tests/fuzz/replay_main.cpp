// SPDX-License-Identifier: Apache-2.0
// A fuzz target without libFuzzer: runs each file named (or each file in each directory named)
// through LLVMFuzzerTestOneInput once, so that the committed seeds and every crash input ever
// found replay in the ordinary test suite, under ASan and UBSan in the sanitizer build.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

int replay(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("replaying %s (%zu bytes)\n", file.c_str(), bytes.size());
    return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
    difflab::fuzz::report_outcomes = true;
    int replayed = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path entry = argv[i];
        std::vector<std::filesystem::path> files;
        if (std::filesystem::is_directory(entry)) {
            for (const auto& f : std::filesystem::directory_iterator(entry))
                if (f.is_regular_file()) files.push_back(f.path());
        } else if (std::filesystem::exists(entry)) {
            files.push_back(entry);
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            replay(f);
            ++replayed;
        }
    }
    std::printf("%d inputs replayed, none crashed\n", replayed);
    return replayed > 0 ? 0 : 1;
}
